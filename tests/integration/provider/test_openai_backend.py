"""OpenAICompatBackend against a real OpenAI-compatible server (llama.cpp's, on 127.0.0.1), and
against a local HTTP server for the failures that would otherwise need the internet."""

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    ResponseFormat,
    StreamCompleted,
    StreamFailed,
    TextDelta,
    ToolCallDelta,
)
from hybridmcp_app.core.llm_configs import ProviderConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.llm.provider_catalog import ModelPrice, PriceTable
from tests.helpers.failing_provider import Reply, chunk, failing_provider
from tests.helpers.llama_server import LlamaServer, free_port, provider_config
from tests.helpers.waiting import PATIENCE_S

QUESTION = InferenceRequest(
    messages=(ChatMessage(role="user", content="Name a colour."),),
    parameters=ModelParameters(temperature=0.0, max_tokens=8),
)


def backend_for(
    base_url: str, key: str | None = "test-provider-key", **config: object
) -> OpenAICompatBackend:
    settings = ProviderConfig.model_validate({
        "name": "test-provider", "base_url": base_url, "default_model": "gemma",
        "timeout_s": PATIENCE_S, "first_token_timeout_s": PATIENCE_S, **config,
    })  # fmt: skip
    return OpenAICompatBackend(settings, SecretStr(key) if key else None)


async def test_a_real_server_streams_an_answer_with_estimated_usage(
    provider_server: LlamaServer,
) -> None:
    async with backend_for(provider_server.base_url) as backend:
        events = [event async for event in backend.stream(QUESTION)]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas
    completed = events[-1]
    assert isinstance(completed, StreamCompleted)
    response = completed.response
    assert response.text == "".join(deltas)
    assert response.backend == "test-provider"
    assert response.usage.estimated  # this server sends no usage in streams
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert response.timings.time_to_first_token_s is not None
    assert response.cost_usd is None  # no price for this model


async def test_cost_comes_from_the_price_table(provider_server: LlamaServer) -> None:
    prices = PriceTable({"gemma": ModelPrice(input=1000.0, output=2000.0)})
    settings = provider_config(provider_server.base_url, name="p")
    async with OpenAICompatBackend(settings, SecretStr("test-provider-key"), prices=prices) as b:
        response = await b.complete(QUESTION)
    usage = response.usage
    expected = (usage.prompt_tokens * 1000 + usage.completion_tokens * 2000) / 1e6
    assert response.cost_usd == pytest.approx(expected)


def test_the_shipped_price_table_and_presets_load() -> None:
    from hybridmcp_app.llm.provider_catalog import load_presets

    table = PriceTable.load(resources_dir())
    assert table.price("gpt-4o-mini") is not None
    presets = {p.id: p for p in load_presets(resources_dir())}
    assert {"openai", "azure", "openrouter", "groq", "together", "mistral", "ollama",
            "lmstudio", "vllm", "llamacpp", "custom"} <= set(presets)  # fmt: skip
    assert presets["ollama"].base_url == "http://127.0.0.1:11434/v1"
    assert not presets["ollama"].needs_key


def test_a_broken_user_price_file_is_ignored(tmp_path: Path) -> None:
    user = tmp_path / "prices.json"
    user.write_text('{"models": {"gpt-4o-mini": {"input": -1, "output": 1}}}')
    table = PriceTable.load(resources_dir(), user)
    price = table.price("gpt-4o-mini")
    assert price is not None and price.input > 0


async def test_test_connection_lists_the_servers_models(provider_server: LlamaServer) -> None:
    async with backend_for(provider_server.base_url) as backend:
        report = await backend.test_connection()
    assert report.ok
    assert report.models
    assert "connected in" in report.message


async def test_a_json_schema_constrains_the_answer(provider_server: LlamaServer) -> None:
    schema = {"type": "object", "properties": {"colour": {"enum": ["red", "green", "blue"]}},
              "required": ["colour"]}  # fmt: skip
    request = QUESTION.model_copy(
        update={
            "response_format": ResponseFormat(type="json_schema", json_schema=schema),
            "parameters": ModelParameters(temperature=0.0, max_tokens=40),
        }
    )
    async with backend_for(provider_server.base_url) as backend:
        response = await backend.complete(request)
    assert json.loads(response.text)["colour"] in {"red", "green", "blue"}


async def test_a_wrong_key_is_reported_as_such(provider_server: LlamaServer) -> None:
    async with backend_for(provider_server.base_url, key="wrong-key", max_retries=0) as backend:
        events = [event async for event in backend.stream(QUESTION)]
        report = await backend.test_connection()
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert "refused the API key (401)" in failed.message
    assert not failed.retryable
    assert not report.ok and "401" in report.message


async def test_a_closed_port_is_reported_as_unreachable() -> None:
    async with backend_for(f"http://127.0.0.1:{free_port()}/v1", max_retries=0) as backend:
        with pytest.raises(BackendError, match="cannot reach test-provider"):
            await backend.complete(QUESTION)


async def test_a_stopped_stream_leaves_the_server_usable(provider_server: LlamaServer) -> None:
    long = QUESTION.model_copy(update={"parameters": ModelParameters(max_tokens=60)})
    async with backend_for(provider_server.base_url) as backend:
        async for event in backend.stream(long):
            if isinstance(event, TextDelta):
                break
        response = await backend.complete(QUESTION)
    assert response.text


async def test_an_unknown_model_is_reported_with_the_servers_words() -> None:
    reply = Reply(404, {"error": {"message": "The model 'gpt-9' does not exist"}})
    with failing_provider([reply]) as server:
        async with backend_for(server.base_url, max_retries=0) as backend:
            with pytest.raises(BackendError, match=r"404.*The model 'gpt-9' does not exist"):
                await backend.complete(QUESTION)


async def test_a_rate_limit_is_retried_after_the_time_the_server_asks() -> None:
    limited = Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1"})
    ok = Reply(sse=[chunk("Blue"), chunk("", finish="stop"), "[DONE]"])
    with failing_provider([limited, ok]) as server:
        async with backend_for(server.base_url, max_retries=2) as backend:
            response = await backend.complete(QUESTION)
        times = [r["time"] for r in server.requests]
    assert response.text == "Blue"
    assert len(times) == 2
    assert times[1] - times[0] >= 0.9


async def test_server_errors_fail_after_the_configured_retries() -> None:
    with failing_provider([Reply(503, {"error": {"message": "overloaded"}},
                                 headers={"Retry-After": "0"})]) as server:  # fmt: skip
        async with backend_for(server.base_url, max_retries=2) as backend:
            events = [event async for event in backend.stream(QUESTION)]
        attempts = len(server.requests)
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert "failed (503) even after retries" in failed.message
    assert failed.retryable
    assert attempts == 3


async def test_a_slow_server_times_out() -> None:
    with failing_provider([Reply(delay_s=3, sse=[chunk("late", "stop"), "[DONE]"])]) as server:
        async with backend_for(server.base_url, timeout_s=0.5, max_retries=0) as backend:
            with pytest.raises(BackendError, match="did not answer in time"):
                await backend.complete(QUESTION)


async def test_a_stream_that_breaks_midway_keeps_its_text_and_says_so() -> None:
    with failing_provider([Reply(sse=[chunk("The sky "), chunk("is")])]) as server:
        async with backend_for(server.base_url) as backend:
            events = [event async for event in backend.stream(QUESTION)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "The sky is"
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert "ended the stream before finishing" in failed.message


async def test_malformed_json_in_a_stream_is_reported() -> None:
    with failing_provider([Reply(sse=[chunk("Hi"), "{this is not json", "[DONE]"])]) as server:
        async with backend_for(server.base_url) as backend:
            events = [event async for event in backend.stream(QUESTION)]
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert "malformed" in failed.message


async def test_a_provider_that_stops_and_comes_back_is_used_again(embedded_model: Path) -> None:
    from tests.helpers.llama_server import llama_server

    port = free_port()
    with llama_server(embedded_model, api_key="k", port=port) as server:
        async with backend_for(server.base_url, key="k", max_retries=0) as backend:
            assert (await backend.complete(QUESTION)).text
            server.process.terminate()
            server.process.wait(timeout=PATIENCE_S)
            with pytest.raises(BackendError, match="cannot reach test-provider"):
                await backend.complete(QUESTION)
            with llama_server(embedded_model, api_key="k", port=port):
                assert (await backend.complete(QUESTION)).text


@pytest.mark.parametrize("supported", [True, False])
async def test_predicted_outputs_are_sent_only_to_endpoints_that_take_them(supported: bool) -> None:
    ok = Reply(sse=[chunk("Final"), chunk("", finish="stop"), "[DONE]"])
    with failing_provider([ok]) as server:
        async with backend_for(server.base_url, supports_prediction=supported) as backend:
            await backend.complete(QUESTION.model_copy(update={"prediction": "Draft text"}))
        body = server.requests[0]["body"]
    if supported:
        assert body["prediction"] == {"type": "content", "content": "Draft text"}
    else:
        assert "prediction" not in body


async def test_a_forced_tool_call_streams_as_deltas_and_parses(
    provider_server: LlamaServer,
) -> None:
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "maxLength": 20}},
                "required": ["city"],
            },
        },
    }
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="What's the weather in Lisbon?"),),
        parameters=ModelParameters(temperature=0.0, max_tokens=60),
        tools=(weather,),
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    async with backend_for(provider_server.base_url) as backend:
        events = [event async for event in backend.stream(request)]
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert deltas
    completed = events[-1]
    assert isinstance(completed, StreamCompleted)
    (call,) = completed.response.tool_calls
    assert call.name == "get_weather"
    assert isinstance(json.loads(call.arguments)["city"], str)
    assert "".join(d.arguments for d in deltas) == call.arguments


def usage_chunk(prompt: int, completion: int) -> str:
    return json.dumps({
        "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
        "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                 "total_tokens": prompt + completion},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("finish", "why"),
    [
        ("stop", "finish reason: stop"),
        ("length", "finish reason: length (the token limit was reached"),
        ("content_filter", "finish reason: content_filter (the provider's content filter"),
    ],
)
async def test_an_answer_without_text_fails_saying_what_the_provider_returned(
    finish: str, why: str
) -> None:
    empty = Reply(sse=[chunk("", finish=finish), usage_chunk(23, 0), "[DONE]"])
    with failing_provider([empty]) as server:
        async with backend_for(server.base_url) as backend:
            events = [event async for event in backend.stream(QUESTION)]
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert failed.message.startswith("test-provider returned no text (")
    assert why in failed.message
    assert "23 prompt tokens, 0 completion tokens" in failed.message
    assert "\n" not in failed.message


async def test_an_answer_without_text_or_usage_gives_the_estimated_prompt_tokens() -> None:
    empty = Reply(sse=[chunk("", finish="stop"), "[DONE]"])
    with failing_provider([empty]) as server:
        async with backend_for(server.base_url) as backend:
            events = [event async for event in backend.stream(QUESTION)]
    failed = events[-1]
    assert isinstance(failed, StreamFailed)
    assert "finish reason: stop" in failed.message
    assert "prompt tokens (estimated: none reported), 0 completion tokens" in failed.message
