"""The game's hosts on real parts: the embedded model, the llama.cpp server as the provider,
and the ONNX embedder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.puzzle_models import Puzzle
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from tests.helpers.llama_server import LlamaServer
from tests.integration.orchestration.conftest import provider_config


@pytest.fixture(scope="session")
def matcher() -> FactMatcher:
    return FactMatcher(OnnxEmbedder(threads=2))


@pytest.fixture
def umbrella() -> Puzzle:
    path = resources_dir() / "puzzles" / "the-dry-umbrella.json"
    return Puzzle.model_validate_json(path.read_text())


@pytest.fixture
async def provider(provider_server: LlamaServer) -> AsyncIterator[OpenAICompatBackend]:
    async with OpenAICompatBackend(
        provider_config(provider_server.base_url), SecretStr(provider_server.api_key)
    ) as backend:
        yield backend
