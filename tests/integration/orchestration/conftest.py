"""The hybrid's two halves for real: the embedded model in-process and the llama.cpp server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from tests.helpers.llama_server import free_port, provider_config


@pytest.fixture
async def dead_provider() -> AsyncIterator[OpenAICompatBackend]:
    config = provider_config(f"http://127.0.0.1:{free_port()}/v1", max_retries=0)
    async with OpenAICompatBackend(config, SecretStr("k")) as backend:
        yield backend


@pytest.fixture
def orchestrator(gemma: LlamaCppBackend, provider: OpenAICompatBackend) -> LLMOrchestrator:
    return LLMOrchestrator(gemma, provider, WrapperConfig())
