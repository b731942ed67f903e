"""Per-token surprisal of a text under a local model: what prompt compression prunes by.

Runs on the model's worker thread. The text is decoded in small batches with logits requested
for every position (so no ``logits_all`` model is needed: only ``SCORE_BATCH`` rows of
vocabulary-sized logits exist at a time); row i of a batch predicts the token after token i.

The loaded local model scores, whatever it is: measured (``benchmarks.embedded_models``), the
base model Gemma 3 270M kept one gold answer more than the chat model SmolLM2 of 72 after pruning
(66 against 65) at the same speed, not worth loading a second model for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from llama_cpp import Llama

SCORE_BATCH = 64


@dataclass(frozen=True)
class TokenSurprisal:
    """One token of the text: its characters and −log p(token | text before it), in nats."""

    text: str
    surprisal: float


def score_text(llama: Llama, text: str) -> list[TokenSurprisal]:
    """Surprisal of every token of ``text`` (the first token has none: it is given ``inf``)."""
    tokens = llama.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    n_vocab = llama.n_vocab()
    surprisals: list[float] = []
    llama.reset()  # type: ignore[no-untyped-call]
    llama._ctx.kv_cache_clear()  # type: ignore[no-untyped-call]  # positions restart at 0
    try:
        for start in range(0, len(tokens), SCORE_BATCH):
            batch = tokens[start : start + SCORE_BATCH]
            llama._batch.set_batch(batch=batch, n_past=start, logits_all=True)
            llama._ctx.decode(llama._batch)
            for row, _ in enumerate(batch):
                following = start + row + 1
                if following >= len(tokens):
                    break
                row_pointer = llama._ctx.get_logits_ith(row)
                logits = np.ctypeslib.as_array(row_pointer, shape=(n_vocab,))
                peak = float(logits.max())
                log_total = peak + math.log(float(np.exp(logits - peak, dtype=np.float32).sum()))
                surprisals.append(log_total - float(logits[tokens[following]]))
    finally:
        llama.reset()  # type: ignore[no-untyped-call]  # next prompt is evaluated afresh
    pieces: list[TokenSurprisal] = []
    previous = tokens[:1]
    for index, token in enumerate(tokens[1:]):
        piece = llama.detokenize([token], prev_tokens=previous).decode("utf-8", "replace")
        previous = [*previous, token]
        pieces.append(TokenSurprisal(piece, surprisals[index]))
    return pieces
