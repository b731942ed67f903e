"""Engine settings per model file, applied to the real llama.cpp, and prompt-lookup drafting
giving the answer plain decoding gives (SmolLM2 135M Instruct)."""

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.config.model_settings import ModelSettingsStore
from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.local_model_service import LocalModelService
from tests.helpers.waiting import PATIENCE_S

TEXT = (
    "The old fisherman lived at the edge of the village, in a small house with a blue door. "
    "Every morning he walked down to the harbour before the sun rose, carrying a basket of "
    "bread and a flask of tea. The other fishermen greeted him with a nod, and he nodded back, "
    "because words were not needed between men who had shared the same sea for forty years. "
    "His boat was painted white and green, and its name, written in careful letters on the "
    "bow, was the Morning Star. He had built it himself with his father when he was a boy."
)
EDIT = InferenceRequest(
    messages=(
        ChatMessage(
            role="user", content=f"Rewrite this text, changing 'village' to 'town':\n\n{TEXT}"
        ),
    ),
    parameters=ModelParameters(temperature=0.0, max_tokens=96, repeat_penalty=1.0),
)


@pytest.fixture(scope="module")
def smollm2_file(model_cache: Path) -> Path:
    return SMOLLM2.locate(model_cache)


def open_backend(path: Path, **settings: object) -> LlamaCppBackend:
    inference = InferenceSettings.model_validate({"n_ctx": 1024, **settings})
    return asyncio.run(LlamaCppBackend.open(path, inference))


@pytest.fixture(scope="module")
def plain(smollm2_file: Path) -> Iterator[LlamaCppBackend]:
    backend = open_backend(smollm2_file, prompt_lookup=False)
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


@pytest.fixture(scope="module")
def drafting(smollm2_file: Path) -> Iterator[LlamaCppBackend]:
    backend = open_backend(smollm2_file, prompt_lookup=True)
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


async def test_a_files_engine_settings_are_remembered_across_a_reload_and_applied_by_llama_cpp(
    model_cache: Path, smollm2_file: Path, tmp_path: Path
) -> None:
    settings_file = tmp_path / "model-settings.json"
    chosen = InferenceSettings(n_ctx=768, kv_cache_type="q8_0", flash_attention=True)
    ModelSettingsStore(settings_file).remember(smollm2_file, chosen)
    config = LocalLLMConfig(model_path=smollm2_file, inference=InferenceSettings(n_ctx=1024))

    for _ in range(2):  # the second time from a new store, as after a restart
        service = LocalModelService(model_cache, ModelSettingsStore(settings_file))
        backend = await service.load(config)
        runtime = backend.context.runtime
        assert (runtime.n_ctx, runtime.kv_cache_type, runtime.flash_attention) == (
            768, "q8_0", True
        )  # fmt: skip
        assert backend.context_window == 768
        await service.unload()

    assert ModelSettingsStore(settings_file).forget(smollm2_file)
    service = LocalModelService(model_cache, ModelSettingsStore(settings_file))
    backend = await service.load(config)  # no settings of its own: the config's defaults
    assert (backend.context.runtime.n_ctx, backend.context.runtime.kv_cache_type) == (1024, "f16")
    await service.unload()


async def test_sampling_defaults_are_the_files_own_else_the_settings_as_they_are_now(
    model_cache: Path, smollm2_file: Path, tmp_path: Path
) -> None:
    store = ModelSettingsStore(tmp_path / "model-settings.json")
    service = LocalModelService(model_cache, store)
    loaded_with = LocalLLMConfig(model_path=smollm2_file)
    await service.load(loaded_with)
    # Changed after the model loaded (Settings saved): the next answer uses the change.
    changed = loaded_with.model_copy(
        update={"inference": InferenceSettings(parameters=ModelParameters(max_tokens=120))}
    )
    assert service.parameters(changed).max_tokens == 120
    own = InferenceSettings(parameters=ModelParameters(max_tokens=7))
    store.remember(smollm2_file, own)
    await service.load(loaded_with)
    assert service.parameters(changed).max_tokens == 7  # the file's own settings win
    await service.unload()


async def test_a_context_llama_cpp_refuses_is_explained_and_the_model_in_use_keeps_working(
    model_cache: Path, smollm2_file: Path
) -> None:
    service = LocalModelService(model_cache)
    working = await service.load(LocalLLMConfig(model_path=smollm2_file))
    # Settings the form refuses, as a hand-edited file might still hold them: llama.cpp refuses
    # a quantised V cache without flash attention.
    refused = InferenceSettings.model_construct(kv_cache_type="q8_0", flash_attention=False)
    with pytest.raises(ModelLoadError) as raised:
        await service.load(
            LocalLLMConfig.model_construct(model_path=smollm2_file, inference=refused)
        )
    message = str(raised.value)
    assert "\n" not in message
    assert "could not create its context" in message and "q8_0 KV cache" in message
    assert service.backend is working
    assert service.status.error == message
    answer = await working.complete(EDIT.model_copy(update={"parameters": ModelParameters(
        temperature=0.0, max_tokens=8)}))  # fmt: skip
    assert answer.text.strip()
    await service.unload()


async def test_prompt_lookup_drafting_gives_the_answer_plain_decoding_gives_at_temperature_0(
    plain: LlamaCppBackend, drafting: LlamaCppBackend, caplog: pytest.LogCaptureFixture
) -> None:
    expected = await plain.complete(EDIT)
    with caplog.at_level(logging.INFO, logger="hybridmcp.llm.llama"):
        drafted = await drafting.complete(EDIT)
    assert drafted.text == expected.text
    assert drafted.usage == expected.usage
    assert "The old fisherman lived at the edge of" in drafted.text  # it copies the text
    kept = [
        int(found.group(1))
        for record in caplog.records
        if (found := re.match(r"prompt lookup: (\d+) of \d+ drafted", record.getMessage()))
    ]
    assert kept and kept[0] > 0  # drafts were made and the model kept some of them


async def test_a_short_prompt_and_a_request_for_log_probabilities_are_decoded_without_drafts(
    drafting: LlamaCppBackend, caplog: pytest.LogCaptureFixture
) -> None:
    short = InferenceRequest(
        messages=(ChatMessage(role="user", content="Name a colour."),),
        parameters=ModelParameters(temperature=0.0, max_tokens=8),
    )
    with caplog.at_level(logging.INFO, logger="hybridmcp.llm.llama"):
        await drafting.complete(short)
        with_logprobs = await drafting.complete(EDIT.model_copy(update={"logprobs": True}))
    assert len(with_logprobs.token_logprobs) == with_logprobs.usage.completion_tokens
    assert not [r for r in caplog.records if r.getMessage().startswith("prompt lookup")]
