"""One short local answer at start-up, for the start-up probe (benchmarks, the bundle's smoke
test): proof that the local model loads and answers in this build, not only that a window opens."""

from __future__ import annotations

import asyncio

from hybridmcp_app.core.errors import ModelLoadError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.llm.local_model_service import LocalModelService, LocalModelState

POLL_S = 0.05


async def answer_when_loaded(
    service: LocalModelService,
    config: LocalLLMConfig,
    prompt: str,
    *,
    max_tokens: int = 8,
    timeout_s: float = 300.0,
) -> str:
    """Wait for the model the app loads at start (or load it, where the app does not), then
    continue ``prompt`` greedily as it is (no chat template: any model continues text).

    Raises ``ModelLoadError`` when the load fails, ``BackendError`` when the answer does, and
    ``TimeoutError`` after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        if not config.load_on_start and service.backend is None:
            await service.load(config)
        # The app's own load task may not have started yet: watch its status.
        while (backend := service.backend) is None:
            status = service.status
            if status.state is LocalModelState.UNLOADED and status.error is not None:
                raise ModelLoadError(status.error)
            await asyncio.sleep(POLL_S)
        parameters = config.inference.parameters.model_copy(
            update={"max_tokens": max_tokens, "temperature": 0.0}
        )
        request = InferenceRequest(
            messages=(ChatMessage(role="user", content=prompt),),
            parameters=parameters,
            raw_prompt=True,
        )
        response = await backend.complete(request)
    return response.text
