"""The KV-cache size from GGUF metadata: the cache's shape, and the line the settings show."""

from typing import Any

from hybridmcp_app.llm.kv_cache_size import describe_kv_cache, kv_cache_bytes, kv_geometry

SMOLLM2_META: dict[str, Any] = {
    "general.architecture": "llama",
    "llama.block_count": 30,
    "llama.embedding_length": 576,
    "llama.attention.head_count": 9,
    "llama.attention.head_count_kv": 3,
}
GEMMA3_META: dict[str, Any] = {
    "general.architecture": "gemma3",
    "gemma3.block_count": 18,
    "gemma3.embedding_length": 640,
    "gemma3.attention.head_count": 4,
    "gemma3.attention.head_count_kv": 1,
    "gemma3.attention.key_length": 256,
    "gemma3.attention.value_length": 256,
    "gemma3.attention.sliding_window": 512,
}


def test_head_size_comes_from_the_embedding_width_when_the_file_gives_no_key_length() -> None:
    geometry = kv_geometry(SMOLLM2_META)
    assert geometry is not None
    assert (geometry.n_layer, geometry.k_width, geometry.v_width) == (30, 192, 192)
    assert geometry.sliding_layers == 0


def test_gemma_3_has_five_sliding_window_layers_in_every_six() -> None:
    geometry = kv_geometry(GEMMA3_META)
    assert geometry is not None
    assert (geometry.k_width, geometry.sliding_window, geometry.sliding_layers) == (256, 512, 15)


def test_a_pattern_in_the_file_overrides_the_architectures_default() -> None:
    geometry = kv_geometry({**GEMMA3_META, "gemma3.attention.sliding_window_pattern": 3})
    assert geometry is not None and geometry.sliding_layers == 12


def test_a_file_without_its_attention_shape_has_no_size() -> None:
    assert kv_geometry({"general.architecture": "llama", "llama.block_count": 4}) is None
    assert kv_geometry({}) is None
    assert "size unknown" in describe_kv_cache(None, 4096, "f16", 512)


def test_the_context_is_padded_to_256_cells_and_quantised_types_take_their_block_sizes() -> None:
    geometry = kv_geometry(SMOLLM2_META)
    assert geometry is not None
    f16 = kv_cache_bytes(geometry, 8192, "f16", 512)
    assert f16 == 30 * 8192 * 192 * 2 * 2
    assert kv_cache_bytes(geometry, 8000, "f16", 512) == f16
    assert kv_cache_bytes(geometry, 8192, "q8_0", 512) / f16 == 34 / 64
    assert kv_cache_bytes(geometry, 8192, "q4_0", 512) / f16 == 18 / 64


def test_sliding_window_layers_keep_only_their_window_unless_the_cache_is_full_size() -> None:
    geometry = kv_geometry(GEMMA3_META)
    assert geometry is not None
    full = kv_cache_bytes(geometry, 8192, "f16", 512)
    windowed = kv_cache_bytes(geometry, 8192, "f16", 512, swa_full=False)
    per_cell = 256 * 2 * 2
    assert full == 18 * 8192 * per_cell
    assert windowed == (3 * 8192 + 15 * 1024) * per_cell  # 512 + a 512-token micro-batch


def test_the_settings_line_names_the_size_the_context_and_the_type() -> None:
    geometry = kv_geometry(SMOLLM2_META)
    assert describe_kv_cache(geometry, 8192, "q8_0", 512) == (
        "KV cache: 96 MiB at 8,192 tokens (q8_0)"
    )
    assert describe_kv_cache(geometry, 256, "f16", 512) == "KV cache: 5.6 MiB at 256 tokens (f16)"
