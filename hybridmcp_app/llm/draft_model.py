"""A small model that drafts tokens for a bigger one with the same tokenizer.

``LlamaDraft`` is a llama-cpp-python ``LlamaDraftModel``: given the tokens so far it returns the
next ``num_pred_tokens`` its own ``Llama`` picks greedily, ending early with an end-of-generation
token (the answer ends there if the main model agrees; drafting past it would only be checked
and thrown away). The main model checks them in one batch (``llama_drafting``) and keeps each
only while it is what it samples anyway, so the answer is unchanged. The draft's KV cache is
kept between calls: only the tokens after the longest prefix it already holds are evaluated.

It is built and called on the main model's worker thread (llama.cpp is not thread-safe), never
elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from llama_cpp.llama_speculative import LlamaDraftModel

if TYPE_CHECKING:
    from llama_cpp import Llama

# llama.cpp's own default draft length for a draft model (common/speculative).
DRAFT_TOKENS = 16


class LlamaDraft(LlamaDraftModel):
    """Greedy drafts from ``llama``; ``num_pred_tokens`` is how many the next call returns."""

    def __init__(self, llama: Llama, num_pred_tokens: int = DRAFT_TOKENS) -> None:
        self.llama = llama
        self.num_pred_tokens = num_pred_tokens

    @classmethod
    def load(cls, path: Path, *, n_ctx: int, n_threads: int, n_batch: int) -> LlamaDraft:
        """Load ``path`` as a draft model (on the calling thread: the main model's worker)."""
        from llama_cpp import Llama

        llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_batch=n_batch,
            verbose=False,
        )
        return cls(llama)

    def __call__(self, input_ids: npt.NDArray[np.intc], /, **kwargs: Any) -> npt.NDArray[np.intc]:
        llama = self.llama
        wanted = min(self.num_pred_tokens, llama.n_ctx() - len(input_ids))
        if wanted <= 0 or len(input_ids) == 0:
            return np.array([], dtype=np.intc)
        import llama_cpp

        self._keep_prefix(input_ids)
        llama.eval(input_ids[llama.n_tokens :].tolist())
        vocab = llama_cpp.llama_model_get_vocab(llama.model)
        drafted: list[int] = []
        while True:
            drafted.append(self._greedy())
            if len(drafted) == wanted or llama_cpp.llama_vocab_is_eog(vocab, drafted[-1]):
                return np.array(drafted, dtype=np.intc)
            llama.eval([drafted[-1]])

    def close(self) -> None:
        self.llama.close()

    def _greedy(self) -> int:
        row = self.llama._ctx.get_logits()  # type: ignore[no-untyped-call]
        logits = np.ctypeslib.as_array(row, shape=(self.llama.n_vocab(),))
        return int(logits.argmax())

    def _keep_prefix(self, input_ids: npt.NDArray[np.intc]) -> None:
        """Drop the cached tokens after the longest prefix shared with ``input_ids`` (at least
        the last one is evaluated again, for its logits). A sliding-window cache that no longer
        holds the window that prefix needs is cleared instead."""
        import llama_cpp

        llama = self.llama
        cached = llama.input_ids[: llama.n_tokens]
        limit = min(len(cached), len(input_ids) - 1)
        differ = np.nonzero(cached[:limit] != input_ids[:limit])[0]
        keep = int(differ[0]) if len(differ) else limit
        memory = llama_cpp.llama_get_memory(llama.ctx)
        window = llama_cpp.llama_model_n_swa(llama.model)
        if keep and not llama._ctx.kv_cache_seq_rm(-1, keep, -1):
            keep = 0
        if keep and window > 0:
            oldest = llama_cpp.llama_memory_seq_pos_min(memory, 0)
            keep = keep if oldest <= max(0, keep - window) else 0
        if keep == 0:
            llama_cpp.llama_memory_clear(memory, True)
        llama.n_tokens = keep
