"""Speculative decoding: draft tokens copied from the prompt (or proposed by a small draft model
with the same tokenizer, ``draft_model.LlamaDraft``), checked in one batch.

An edit rewrites a text the prompt already holds, so the tokens that follow the last few
generated ones are usually found there. They are evaluated with the last token in one batch,
and the model's own choice at each position is sampled in order: a draft token is kept only
while it is what the model samples anyway, so the answer is the one plain decoding gives (at any
temperature), just with fewer passes over the weights. Only llama.cpp's arithmetic differs: a
batch rounds differently from a single token, so where the top two tokens are within a rounding
error of each other a greedy choice can flip (benchmarks.local_llm reports whether it did).

llama-cpp-python's own ``draft_model=`` path turns on ``logits_all``: every prompt token then
gets a vocabulary-wide row of logits (262k floats each for Gemma 3) that is copied into Python.
This loop asks llama.cpp for logits only at the drafted positions, and runs on the model's
worker thread like every other call on the model.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp._internals import LlamaSampler
    from llama_cpp.llama_speculative import LlamaDraftModel

# On a CPU a token checked in a batch of 32 costs about 0.4 of one decoded alone for Gemma 3
# 270M, about 0.5 for SmolLM2 135M (the vocabulary-wide logits of every drafted position are
# much of it), so drafts run long while they are kept, and a draft of which fewer than half are
# kept does not pay (benchmarks.local_llm, ``speculative_speedup``).
FIRST_DRAFT = 8
MAX_DRAFT = 32
MIN_DRAFT = 2
MAX_PAUSE = 64
# Prompt lookup matches the text's last 2 to 8 tokens: a single token recurs too often to say
# where in the prompt the answer is.
SHORTEST_MATCH = 2
LONGEST_MATCH = 8


class DraftLength:
    """How many tokens to draft next: doubles after a fully accepted draft, halves after one
    at least half accepted; after a draft less than half accepted (which costs more than it
    saves) it pauses drafting for 2, 4, 8… tokens (up to ``MAX_PAUSE``), so an answer whose
    drafts keep missing is decoded almost as plainly as without drafts."""

    def __init__(self, longest: int = MAX_DRAFT) -> None:
        self.longest = max(1, longest)
        self.current = min(FIRST_DRAFT, self.longest)
        self._misses = 0
        self._paused = 0

    def next(self) -> int:
        if self._paused:
            self._paused -= 1
            return 0
        return self.current

    def record(self, drafted: int, accepted: int) -> None:
        if drafted == 0:
            return
        if accepted == drafted:
            self.current, self._misses = min(self.longest, self.current * 2), 0
        elif 2 * accepted < drafted:
            self._misses += 1
            self._paused = min(MAX_PAUSE, 2**self._misses)
            self.current = min(self.longest, MIN_DRAFT)
        else:
            self.current = min(self.longest, max(MIN_DRAFT, self.current // 2))


class PromptLookup:
    """Drafts what followed the longest earlier occurrence (``SHORTEST_MATCH`` to
    ``LONGEST_MATCH`` tokens) of the text's last tokens, the earliest one of that length: an
    edit copies its source, which the prompt holds before the answer. The interface of
    llama-cpp-python's draft models (``num_pred_tokens``, called with the tokens so far)."""

    def __init__(self, num_pred_tokens: int = FIRST_DRAFT) -> None:
        self.num_pred_tokens = num_pred_tokens

    def __call__(self, input_ids: npt.NDArray[np.intc], /, **_: Any) -> npt.NDArray[np.intc]:
        last = len(input_ids) - 1
        if last < SHORTEST_MATCH or self.num_pred_tokens <= 0:
            return np.array([], dtype=np.intc)
        # Where each match ends: earlier tokens equal to the last one, then those whose
        # preceding tokens match too, one more each round (vectorised: no Python per token).
        ends = np.flatnonzero(input_ids[:last] == input_ids[last])
        found = ends[:0]
        matched = 1
        while len(ends) and matched < LONGEST_MATCH:
            ends = ends[ends >= matched]
            ends = ends[input_ids[ends - matched] == input_ids[last - matched]]
            matched += 1
            if len(ends) and matched >= SHORTEST_MATCH:
                found = ends
        if not len(found):
            return np.array([], dtype=np.intc)
        start = int(found[0]) + 1
        return input_ids[start : start + self.num_pred_tokens].copy()


@dataclass
class DraftStats:
    """How the drafts went: tokens drafted, and how many of them the model kept."""

    drafted: int = 0
    accepted: int = 0


def drafted_generate(
    llama: Llama,
    tokens: list[int],
    *,
    draft_limit: int = MAX_DRAFT,
    stats: DraftStats | None = None,
    drafter: LlamaDraftModel | None = None,
    **sampling: Any,
) -> Generator[int, None, None]:
    """Like ``Llama.generate(tokens, **sampling)`` (same tokens, same sampler, same prompt
    cache), with drafting after the first token; ``stats`` counts the drafts. ``drafter``
    proposes them (anything with ``num_pred_tokens`` and ``drafter(tokens)``, as
    llama-cpp-python's draft models); None: prompt lookup."""
    import llama_cpp

    first: Iterator[int] = llama.generate(tokens, **sampling)
    try:
        token = next(first)  # the prompt evaluated (cached prefix reused), the sampler built
    finally:
        first.close()  # type: ignore[attr-defined]
    sampler = llama._sampler
    assert sampler is not None
    yield token
    # A drafted batch is decoding, not prompt reading: it gets the generation threads (which
    # leave a core for the window) rather than all of them.
    llama_cpp.llama_set_n_threads(llama.ctx, llama.n_threads, llama.n_threads)
    try:
        yield from _drafted_tokens(
            llama, sampler, token, draft_limit, stats or DraftStats(), drafter
        )
    finally:
        llama_cpp.llama_set_n_threads(llama.ctx, llama.n_threads, llama.n_threads_batch)


def _drafted_tokens(
    llama: Llama,
    sampler: LlamaSampler,
    token: int,
    draft_limit: int,
    stats: DraftStats,
    drafter: LlamaDraftModel | None,
) -> Generator[int, None, None]:
    length = DraftLength(min(draft_limit, llama.n_batch - 1))
    lookup: Any = drafter if drafter is not None else PromptLookup()
    n_ctx = llama.n_ctx()
    while True:
        n_past = llama.n_tokens
        room = n_ctx - n_past - 1
        if room < 0:
            return
        lookup.num_pred_tokens = min(length.next(), room)
        llama.input_ids[n_past] = token  # the history, read in place (no copy per token)
        history = llama.input_ids[: n_past + 1]
        drafted = [int(t) for t in lookup(history)] if lookup.num_pred_tokens else []
        batch = [token, *drafted]
        llama._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llama._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
        llama._ctx.decode(llama._batch)
        llama.input_ids[n_past : n_past + len(batch)] = batch
        llama.n_tokens = n_past + len(batch)
        accepted = 0
        stats.drafted += len(drafted)
        for row in range(len(batch)):
            token = sampler.sample(llama._ctx, row - len(batch))
            yield token
            if row == len(drafted) or token != drafted[row]:
                break
            accepted += 1
            stats.accepted += 1
        length.record(len(drafted), accepted)
        kept = n_past + accepted + 1
        if kept < llama.n_tokens:  # the rejected draft tokens leave the cache
            llama.n_tokens = kept
            llama._ctx.kv_cache_seq_rm(-1, kept, -1)
            # The last logits are no longer those of the last kept token: a later request
            # whose prompt is exactly what is cached must evaluate again before sampling.
            llama._requires_eval = True
