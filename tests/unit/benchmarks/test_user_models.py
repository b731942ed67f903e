"""A user's own provider and local GGUF for the benchmarks, read from environment variables."""

import re
from pathlib import Path

import pytest

from benchmarks.user_models import (
    LOCAL_MODEL,
    PROVIDER_KEY,
    PROVIDER_MODEL,
    PROVIDER_URL,
    BenchSetupError,
    local_model_file,
    user_provider,
)


def test_without_variables_the_benchmark_uses_its_own_server_and_model(tmp_path: Path) -> None:
    assert user_provider({}) is None
    assert local_model_file(tmp_path / "default.gguf", {}) == tmp_path / "default.gguf"


def test_the_users_provider_and_model_file_are_taken_from_the_variables(tmp_path: Path) -> None:
    model = tmp_path / "qwen3-4b.gguf"
    model.write_bytes(b"GGUF")
    provider = user_provider(
        {PROVIDER_URL: "https://api.example.com/v1/", PROVIDER_MODEL: "small-1", PROVIDER_KEY: "k"}
    )
    assert provider is not None and provider.user_supplied
    assert (provider.base_url, provider.model, provider.key) == (
        "https://api.example.com/v1", "small-1", "k",
    )  # fmt: skip
    assert provider.describe() == "small-1 at https://api.example.com/v1"
    assert local_model_file(tmp_path / "default.gguf", {LOCAL_MODEL: str(model)}) == model


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({PROVIDER_URL: "api.example.com"}, "is not an http(s) URL"),
        ({PROVIDER_URL: "http://127.0.0.1:8080/v1"}, f"{PROVIDER_MODEL} is needed"),
        ({LOCAL_MODEL: "/nowhere/model.gguf"}, "no file at /nowhere/model.gguf"),
    ],
)
def test_a_wrong_variable_stops_the_benchmark_with_one_line(
    environ: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(BenchSetupError, match=re.escape(message)):
        user_provider(environ)
        local_model_file(tmp_path / "default.gguf", environ)
