"""The app's local model service: the embedded chat model by default, and a failed load that
loses nothing."""

import asyncio
import threading
from pathlib import Path

import pytest

from hybridmcp_app.core.errors import BackendError, ModelLoadError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import SMOLLM2_LABEL, SMOLLM2_NOTE
from hybridmcp_app.llm.local_model_service import (
    LocalModelService,
    LocalModelState,
    LocalModelStatus,
)
from tests.helpers.waiting import wait_until

SMALL = InferenceSettings(n_ctx=512)
# A question, not a pattern: the default model chats through its own template.
PROMPT = InferenceRequest(
    messages=(ChatMessage(role="user", content="What is the opposite of hot?"),),
    parameters=ModelParameters(temperature=0.0, max_tokens=24),
)


def answers_cold(text: str) -> bool:
    return "cold" in text.lower()


async def test_the_tiny_chat_model_is_the_default_and_is_labelled_honestly(
    model_cache: Path,
) -> None:
    service = LocalModelService(model_cache)
    seen: list[LocalModelStatus] = []
    service.subscribe(seen.append)
    backend = await service.load(LocalLLMConfig(inference=SMALL))
    try:
        assert [s.state for s in seen] == [LocalModelState.LOADING, LocalModelState.READY]
        assert seen[-1].label == SMOLLM2_LABEL == "SmolLM2 135M Instruct (tiny demo chat model)"
        assert "Settings → Local model" in SMOLLM2_NOTE
        assert backend.capabilities.has_chat_template
        assert answers_cold((await backend.complete(PROMPT)).text)
    finally:
        await service.unload()
    assert service.status.state is LocalModelState.UNLOADED


async def test_a_failed_load_keeps_the_previous_model_working(
    model_cache: Path, tmp_path: Path
) -> None:
    service = LocalModelService(model_cache)
    working = await service.load(LocalLLMConfig(inference=SMALL))
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    try:
        with pytest.raises(ModelLoadError, match="damaged or truncated"):
            await service.load(LocalLLMConfig(model_path=broken, inference=SMALL))
        assert service.backend is working
        assert service.status.state is LocalModelState.READY
        assert service.status.error is not None and "broken.gguf" in service.status.error
        assert answers_cold((await working.complete(PROMPT)).text)
    finally:
        await service.unload()


async def test_loading_another_model_replaces_and_frees_the_first(model_cache: Path) -> None:
    service = LocalModelService(model_cache)
    first = await service.load(LocalLLMConfig(inference=SMALL))
    second = await service.load(LocalLLMConfig(inference=InferenceSettings(n_ctx=1024)))
    try:
        assert service.backend is second
        assert second.context.inference.n_ctx == 1024
        with pytest.raises(BackendError, match="model worker has stopped"):
            await first.complete(PROMPT)
        assert answers_cold((await second.complete(PROMPT)).text)
    finally:
        await service.unload()


async def test_a_load_cancelled_midway_frees_its_worker_once_the_model_is_in(
    model_cache: Path,
) -> None:
    before = set(threading.enumerate())
    service = LocalModelService(model_cache)
    loading = asyncio.create_task(service.load(LocalLLMConfig(inference=SMALL)))

    def workers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "llm-local" and t not in before}

    await wait_until(lambda: bool(workers()) or loading.done())
    (worker,) = workers()
    loading.cancel()  # as the app's shutdown does, while llama.cpp reads the file
    await asyncio.gather(loading, return_exceptions=True)
    assert loading.cancelled()
    await wait_until(lambda: not worker.is_alive())
    assert service.status.state is not LocalModelState.READY
