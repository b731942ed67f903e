"""The local OpenAI-compatible API, driven by the ``openai`` SDK: the models list, answers whole
and streamed from the local model, the provider (the llama.cpp server) and hybrid strategies,
and clear errors for a wrong token, an unknown model and a bad request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from hybridmcp_app.api_server.api_serving import serving
from hybridmcp_app.api_server.openai_api import OpenAIApi
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.llm.local_model_service import LocalModelService
from tests.helpers.app_turns import memory_secrets, settings_with_provider, turn_runner
from tests.helpers.llama_server import LlamaServer

pytestmark = pytest.mark.integration
TOKEN = "api-test-token-0123456789"
QUESTION: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Name one colour of the rainbow."}
]


@pytest.fixture
async def base_url(
    app_paths: AppPaths, provider_server: LlamaServer, local_model: LocalModelService
) -> AsyncIterator[str]:
    settings = settings_with_provider(provider_server)
    turns = turn_runner(app_paths, settings, local_model, memory_secrets(provider_server.api_key))
    api = OpenAIApi(TOKEN, turns)
    async with serving(api) as port:
        yield f"http://127.0.0.1:{port}/v1"
    await turns.providers.close()


async def test_the_models_are_the_local_model_the_providers_and_the_strategies(
    base_url: str,
) -> None:
    async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN) as client:
        models = [model.id async for model in client.models.list()]
    assert models[:2] == ["local", "provider/lab"]
    assert {"hybrid/boost", "hybrid/route", "hybrid/verify"} <= set(models)
    assert "hybrid/local" not in models and "hybrid/provider" not in models


@pytest.mark.parametrize("model", ["local", "provider/lab", "hybrid/route"])
async def test_an_answer_comes_back_whole(base_url: str, model: str) -> None:
    async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN) as client:
        completion = await client.chat.completions.create(
            model=model,
            messages=QUESTION,
            max_tokens=16,
            temperature=0,
        )
    choice = completion.choices[0]
    assert completion.model == model and choice.message.role == "assistant"
    assert choice.message.content and choice.finish_reason in ("stop", "length")
    assert completion.usage is not None and completion.usage.completion_tokens > 0


@pytest.mark.parametrize("model", ["local", "hybrid/parallel"])
async def test_an_answer_streams(base_url: str, model: str) -> None:
    async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN) as client:
        stream = await client.chat.completions.create(
            model=model,
            messages=QUESTION,
            max_tokens=16,
            temperature=0,
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    if model == "local":
        assert len(chunks) > 3  # token by token, as it is generated


async def test_a_wrong_token_an_unknown_model_and_a_bad_request_are_refused_clearly(
    base_url: str,
) -> None:
    async with openai.AsyncOpenAI(base_url=base_url, api_key="wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
    async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError, match="no model 'hybrid/nope'"):
            await client.chat.completions.create(model="hybrid/nope", messages=QUESTION)
        with pytest.raises(openai.BadRequestError, match="messages"):
            await client.chat.completions.create(model="local", messages=[])
