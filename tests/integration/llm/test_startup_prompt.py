"""The start-up probe's one local answer: it waits for the load the app started (or loads the
model itself where the app does not), and reports a failed load instead of waiting for ever."""

import asyncio
from pathlib import Path

import pytest

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.llm.startup_prompt import answer_when_loaded
from tests.helpers.waiting import PATIENCE_S

SMALL = InferenceSettings(n_ctx=512)
# Continued as it is (no chat template), as the bundle's smoke test sends it: the default chat
# model continues it too.
PROMPT = "The capital of France is"


def says_paris(text: str) -> bool:
    return text.strip().startswith("Paris")


async def test_it_answers_once_the_load_the_app_started_has_finished(model_cache: Path) -> None:
    service = LocalModelService(model_cache)
    config = LocalLLMConfig(inference=SMALL)
    answering = asyncio.create_task(answer_when_loaded(service, config, PROMPT, max_tokens=2))
    await asyncio.sleep(0)  # the probe starts watching; the app's load task starts after it
    try:
        assert await service.try_load(config)
        assert says_paris(await answering)
    finally:
        await service.unload()


async def test_it_loads_the_model_itself_where_the_app_loads_none_at_start(
    model_cache: Path,
) -> None:
    service = LocalModelService(model_cache)
    config = LocalLLMConfig(load_on_start=False, inference=SMALL)
    try:
        assert says_paris(await answer_when_loaded(service, config, PROMPT, max_tokens=2))
    finally:
        await service.unload()


async def test_a_failed_load_is_raised_rather_than_waited_out(
    model_cache: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    service = LocalModelService(model_cache)
    config = LocalLLMConfig(model_path=broken, inference=SMALL)
    answering = asyncio.create_task(
        answer_when_loaded(service, config, PROMPT, timeout_s=PATIENCE_S)
    )
    assert not await service.try_load(config)
    with pytest.raises(ModelLoadError, match="damaged or truncated"):
        await asyncio.wait_for(answering, PATIENCE_S)  # a safety net: it is reported at once
