"""How much memory llama.cpp's KV cache takes, from a GGUF file's metadata (no weights loaded).

The arithmetic is llama.cpp's own (vendored sources of llama-cpp-python 0.3.x:
``llama-context.cpp``, ``llama-kv-cache.cpp``, ``llama-kv-cache-iswa.cpp``):
- the context is padded to a multiple of 256 cells;
- every attention layer holds a K and a V tensor of ``cells × heads_kv × head_dim`` values, in
  the KV type's blocks (f16: 2 bytes a value; q8_0: 34 bytes per 32; q4_0: 18 bytes per 32);
- sliding-window layers (Gemma 2/3, Cohere 2…) keep every cell too, as llama-cpp-python asks
  (``swa_full``, llama.cpp's default); without it they would keep ``window + micro-batch``
  cells, padded to 256, where ``micro-batch = min(context, batch, 512)``.

``tests/integration/llm/test_kv_cache_size.py`` checks these numbers against the sizes llama.cpp
reports when it allocates the cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.model_context import KvCacheType
from hybridmcp_app.llm.gguf_header import read_gguf_header

CELL_PADDING = 256
MAX_MICRO_BATCH = 512  # llama-cpp-python's n_ubatch
# (bytes, values) per block of each KV type (ggml's type traits).
BLOCKS: dict[str, tuple[int, int]] = {"f16": (2, 1), "q8_0": (34, 32), "q4_0": (18, 32)}
# Every n-th layer attends to the whole context, the others to a sliding window (llama.cpp's
# default pattern per architecture, used where the file has no ``sliding_window_pattern``).
# ``True``: the full-attention layer comes first in each group.
SWA_PATTERNS: dict[str, tuple[int, bool]] = {
    "gemma2": (2, False),
    "gemma3": (6, False),
    "gemma-embedding": (6, False),
    "gemma3n": (5, False),
    "cohere2": (4, False),
    "exaone4": (4, False),
    "olmo2": (4, False),
    "gpt-oss": (2, False),
    "llama4": (4, False),
}


class KvGeometry(FrozenModel):
    """What sizes the cache: layers, K/V widths per layer, and the sliding window if any."""

    architecture: str
    n_layer: int = Field(ge=1)
    k_width: int = Field(ge=1, description="heads_kv × key head size")
    v_width: int = Field(ge=1, description="heads_kv × value head size")
    sliding_window: int = Field(0, ge=0)
    sliding_layers: int = Field(0, ge=0, description="Layers that attend to the window only.")


def _padded(cells: int) -> int:
    return -(-cells // CELL_PADDING) * CELL_PADDING


def _row_bytes(width: int, kv_type: str) -> int:
    size, per_block = BLOCKS[kv_type]
    return -(-width // per_block) * size


def _sliding_layers(meta: dict[str, Any], architecture: str, n_layer: int, window: int) -> int:
    if not window:
        return 0
    pattern = meta.get(f"{architecture}.attention.sliding_window_pattern")
    every, dense_first = (
        (int(pattern), False)
        if isinstance(pattern, int)
        else SWA_PATTERNS.get(architecture, (1, False))
    )
    if every <= 1:
        return n_layer if every == 0 else 0
    if dense_first:
        return sum(1 for layer in range(n_layer) if layer % every != 0)
    return sum(1 for layer in range(n_layer) if layer % every < every - 1)


def kv_geometry(meta: dict[str, Any]) -> KvGeometry | None:
    """The cache's shape from GGUF metadata; None where the file does not say (per-layer head
    counts, a recurrent model…)."""
    architecture = meta.get("general.architecture")
    if not isinstance(architecture, str):
        return None

    def number(key: str) -> int | None:
        value = meta.get(f"{architecture}.{key}")
        return int(value) if isinstance(value, int) and value > 0 else None

    n_layer, n_head = number("block_count"), number("attention.head_count")
    n_embd = number("embedding_length")
    if n_layer is None or n_head is None:
        return None
    n_head_kv = number("attention.head_count_kv") or n_head
    head = n_embd // n_head if n_embd else None
    key, value = number("attention.key_length") or head, number("attention.value_length") or head
    if key is None or value is None:
        return None
    window = number("attention.sliding_window") or 0
    return KvGeometry(
        architecture=architecture,
        n_layer=n_layer,
        k_width=n_head_kv * key,
        v_width=n_head_kv * value,
        sliding_window=window,
        sliding_layers=_sliding_layers(meta, architecture, n_layer, window),
    )


def read_kv_geometry(path: Path) -> KvGeometry | None:
    """``kv_geometry`` of a GGUF file (blocking; ``GGUFHeaderError``/``OSError`` if unreadable)."""
    return kv_geometry(read_gguf_header(path).metadata)


def kv_cache_bytes(
    geometry: KvGeometry,
    n_ctx: int,
    kv_type: KvCacheType,
    n_batch: int,
    *,
    swa_full: bool = True,
) -> int:
    """The bytes llama.cpp allocates for the K and V caches at this context, type and batch
    (``swa_full=False``: sliding-window layers keep only their window)."""
    cells = _padded(n_ctx)
    micro_batch = min(n_ctx, n_batch, MAX_MICRO_BATCH)
    window_cells = cells if swa_full else min(cells, _padded(geometry.sliding_window + micro_batch))
    per_cell = _row_bytes(geometry.k_width, kv_type) + _row_bytes(geometry.v_width, kv_type)
    full_layers = geometry.n_layer - geometry.sliding_layers
    return per_cell * (full_layers * cells + geometry.sliding_layers * window_cells)


def describe_kv_cache(
    geometry: KvGeometry | None, n_ctx: int, kv_type: KvCacheType, n_batch: int
) -> str:
    """One line for the engine settings, e.g. 'KV cache: 96 MiB at 8,192 tokens (q8_0)'."""
    if geometry is None:
        return "KV cache: size unknown (the file does not describe its attention layers)"
    size = kv_cache_bytes(geometry, n_ctx, kv_type, n_batch) / 2**20
    shown = f"{size:,.1f}" if size < 10 else f"{size:,.0f}"
    return f"KV cache: {shown} MiB at {n_ctx:,} tokens ({kv_type})"
