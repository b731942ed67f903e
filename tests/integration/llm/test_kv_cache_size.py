"""The KV-cache size computed from GGUF metadata is what llama.cpp allocates (both embedded
models; llama.cpp reports each KV buffer it allocates when loading verbosely)."""

import re
from pathlib import Path

import pytest

from hybridmcp_app.core.model_context import KvCacheType
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.kv_cache_size import kv_cache_bytes, read_kv_geometry
from hybridmcp_app.llm.llama_backend import KV_CACHE_TYPES

BUFFER = re.compile(r"KV buffer size = +([\d.]+) MiB")
REPORTED_PRECISION_MIB = 0.005  # llama.cpp prints two decimals


@pytest.mark.parametrize(
    ("model", "n_ctx", "kv_type", "swa_full"),
    [
        ("smollm2", 1000, "f16", True),
        ("smollm2", 2048, "q8_0", True),
        ("gemma", 1300, "q4_0", True),
        ("gemma", 4096, "q8_0", False),  # sliding-window layers keep only their window
    ],
)
def test_the_computed_kv_cache_size_is_what_llama_cpp_allocates(
    model: str,
    n_ctx: int,
    kv_type: KvCacheType,
    swa_full: bool,
    embedded_model: Path,
    model_cache: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from llama_cpp import Llama

    path = embedded_model if model == "gemma" else SMOLLM2.locate(model_cache)
    geometry = read_kv_geometry(path)
    assert geometry is not None
    llama = Llama(
        model_path=str(path),
        n_ctx=n_ctx,
        n_batch=256,
        type_k=KV_CACHE_TYPES[kv_type],
        type_v=KV_CACHE_TYPES[kv_type],
        flash_attn=kv_type != "f16",
        swa_full=swa_full,
        verbose=True,
    )
    llama.close()
    reported = [float(size) for size in BUFFER.findall(capfd.readouterr().err)]
    assert reported  # one buffer, or two with a sliding-window cache
    computed = kv_cache_bytes(geometry, n_ctx, kv_type, 256, swa_full=swa_full) / 2**20
    assert computed == pytest.approx(sum(reported), abs=REPORTED_PRECISION_MIB * len(reported))
