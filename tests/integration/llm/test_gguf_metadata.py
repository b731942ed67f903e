"""GGUF metadata of real files, and clear errors for files that are not usable models."""

from pathlib import Path

import pytest

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.llm.gguf_metadata import read_model_context
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from tests.helpers.gguf_files import write_tiny_gguf


def test_the_embedded_models_metadata_is_read_without_loading_it(embedded_model: Path) -> None:
    context = read_model_context(embedded_model, display_label="Gemma 3 270M (base, demo)")
    identity = context.identification
    assert identity.architecture == "gemma3"
    assert identity.name == "Gemma 3 270m"
    assert identity.quantization == "Q4_K_M"
    assert identity.license == "gemma"
    assert identity.file_size_bytes == embedded_model.stat().st_size
    assert identity.parameter_count is not None
    assert 260_000_000 < identity.parameter_count < 280_000_000
    assert context.context_length == 32_768
    assert context.tokenizer.vocab_size == 262_144
    assert (context.tokenizer.bos_token_id, context.tokenizer.eos_token_id) == (2, 1)
    assert context.tokenizer.add_bos_token is True
    assert not context.capabilities.has_chat_template  # a base model: no template
    assert not context.capabilities.instruction_tuned
    assert context.runtime.loaded is False


def test_a_chat_template_with_tools_marks_the_model_as_tool_capable(tmp_path: Path) -> None:
    template = (
        "{% for m in messages %}{{ m.content }}{% endfor %}{% if tools %}{{ tools }}{% endif %}"
    )
    path = write_tiny_gguf(tmp_path / "tiny.gguf", chat_template=template, context_length=8192)
    context = read_model_context(path)
    assert context.capabilities.chat_template == template
    assert context.capabilities.supports_tools
    assert context.capabilities.instruction_tuned
    assert context.identification.architecture == "llama"
    assert context.context_length == 8192


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not a GGUF model"),
        (b"just some text, not a model", "is not a GGUF model"),
        (b"PK\x03\x04 a zip file", "is not a GGUF model"),
    ],
)
def test_files_that_are_not_gguf_are_named_as_such(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message):
        read_model_context(path)


@pytest.mark.parametrize("fraction", [0.5, 0.2, 0.0005])
def test_a_truncated_model_is_reported_as_damaged(
    embedded_model: Path, tmp_path: Path, fraction: float
) -> None:
    data = embedded_model.read_bytes()
    path = tmp_path / "truncated.gguf"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelLoadError, match="damaged or truncated"):
        read_model_context(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="model file not found"):
        read_model_context(tmp_path / "nowhere.gguf")


async def test_a_gguf_without_weights_fails_to_load_with_a_clear_error(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "empty-llama.gguf")
    with pytest.raises(ModelLoadError, match=r"llama\.cpp could not load empty-llama\.gguf"):
        await LlamaCppBackend.open(path, InferenceSettings(n_ctx=512))


async def test_an_unknown_architecture_is_named_in_the_error(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "odd.gguf", architecture="quantumformer")
    with pytest.raises(ModelLoadError, match="architecture 'quantumformer'"):
        await LlamaCppBackend.open(path, InferenceSettings(n_ctx=512))


async def test_a_model_larger_than_memory_is_refused_before_loading(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "huge.gguf")
    with path.open("r+b") as handle:  # sparse: takes no disk space
        handle.truncate(2**40)
    with pytest.raises(ModelLoadError, match=r"needs about 1024\.0 GiB"):
        await LlamaCppBackend.open(path, InferenceSettings(n_ctx=512))
    assert path.stat().st_blocks * 512 < 2**20
