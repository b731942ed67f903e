from pathlib import Path

import pytest
from pydantic import ValidationError

from hybridmcp_app.core.model_context import (
    InferenceSettings,
    ModelCapabilities,
    ModelContext,
    ModelIdentification,
    RuntimeProperties,
    TokenizerDetails,
)


def _gguf(**extra: object) -> ModelIdentification:
    return ModelIdentification(
        name="gemma-3-270m",
        display_label="Gemma 3 270M (base, demo)",
        source="gguf",
        file_path=Path("/models/gemma.gguf"),
        **extra,  # type: ignore[arg-type]
    )


def test_a_gguf_model_must_have_a_file() -> None:
    with pytest.raises(ValidationError, match="needs the path of its file"):
        ModelIdentification(name="x", display_label="x", source="gguf")
    provider = ModelIdentification(name="gpt-x", display_label="gpt-x", source="provider")
    assert provider.file_path is None


def test_unknown_model_sources_are_rejected() -> None:
    with pytest.raises(ValidationError, match="source"):
        ModelIdentification.model_validate({"name": "x", "display_label": "x", "source": "ftp"})


def test_capabilities_know_whether_there_is_a_chat_template() -> None:
    assert not ModelCapabilities().has_chat_template
    assert ModelCapabilities(chat_template="{{ messages }}").has_chat_template


def test_thread_counts_and_context_size_are_bounded() -> None:
    with pytest.raises(ValidationError, match="n_threads"):
        InferenceSettings(n_threads=0)
    with pytest.raises(ValidationError, match="n_ctx"):
        InferenceSettings(n_ctx=16)
    assert InferenceSettings().n_threads is None  # resolved at load time: all cores but one


def test_context_window_larger_than_the_trained_context_is_rejected() -> None:
    with pytest.raises(ValidationError, match="larger than the model's trained context 2048"):
        ModelContext(
            identification=_gguf(),
            inference=InferenceSettings(n_ctx=4096),
            context_length=2048,
        )


def test_a_complete_model_context_round_trips_through_json() -> None:
    context = ModelContext(
        identification=_gguf(quantization="Q4_K_M", file_size_bytes=253_000_000),
        capabilities=ModelCapabilities(supports_logprobs=True, supports_grammar=True),
        inference=InferenceSettings(n_ctx=2048, n_threads=1, n_threads_batch=2),
        tokenizer=TokenizerDetails(model="llama", vocab_size=262_144, bos_token_id=2),
        runtime=RuntimeProperties(loaded=True, engine="llama.cpp", load_time_s=0.8),
        context_length=32_768,
    )
    assert ModelContext.model_validate_json(context.model_dump_json()) == context


def test_negative_sizes_and_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="file_size_bytes"):
        _gguf(file_size_bytes=-5)
    with pytest.raises(ValidationError, match="vocab_size"):
        TokenizerDetails(vocab_size=0)
    with pytest.raises(ValidationError, match="memory_bytes"):
        RuntimeProperties(memory_bytes=-1)
