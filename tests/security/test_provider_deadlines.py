"""A provider that accepts a request and never answers fails within the request's deadlines,
not after the SDK's timeout times its retries (60 s × 4 with the defaults)."""

from __future__ import annotations

import asyncio
import json

from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    StreamCompleted,
    StreamEvent,
    StreamFailed,
    TextDelta,
)
from hybridmcp_app.core.llm_configs import ProviderConfig
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from tests.helpers.silent_server import silent_server
from tests.helpers.waiting import PATIENCE_S, wait_until

# Each attempt may wait an hour and is retried 3 times: only the deadlines can end these tests
# (pytest's 300 s timeout would fail them otherwise).
PATIENT = {"timeout_s": 3600.0, "max_retries": 3}
QUESTION = InferenceRequest(messages=(ChatMessage(role="user", content="Hello?"),))


def provider(base_url: str, **deadlines: float) -> ProviderConfig:
    return ProviderConfig.model_validate(
        {"name": "hung", "base_url": base_url, "default_model": "m", **PATIENT, **deadlines}
    )


async def events_of(backend: OpenAICompatBackend) -> list[StreamEvent]:
    return [event async for event in backend.stream(QUESTION)]


def sse(chunk: dict[str, object]) -> bytes:
    return f"data: {json.dumps(chunk)}\n\n".encode()


def role_chunk() -> dict[str, object]:
    return {
        "id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"},
                     "finish_reason": None}],
    }  # fmt: skip


async def test_a_provider_that_never_answers_fails_on_its_first_token_deadline() -> None:
    with silent_server() as server:
        async with OpenAICompatBackend(
            provider(server.base_url, first_token_timeout_s=1), None
        ) as llm:
            events = await events_of(llm)
        await wait_until(lambda: bool(server.requests()))  # it was asked, and never answered
    failure = events[-1]
    assert isinstance(failure, StreamFailed)
    assert "hung sent nothing within 1 s" in failure.message
    assert "first-token timeout" in failure.message and "Settings → Providers" in failure.message
    assert failure.retryable  # so failover answers locally


async def test_a_provider_that_starts_and_then_stalls_fails_on_the_whole_answer_deadline() -> None:
    started = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"connection: close\r\n\r\n" + sse(role_chunk())
    )
    with silent_server(first_bytes=started) as server:
        # The first bytes go out as soon as the request is in: only the 2 s are under test.
        config = provider(server.base_url, first_token_timeout_s=PATIENCE_S, total_timeout_s=2)
        async with OpenAICompatBackend(config, None) as llm:
            events = await events_of(llm)
    assert any(isinstance(event, TextDelta) and event.text == "Hel" for event in events)
    failure = events[-1]
    assert isinstance(failure, StreamFailed)
    assert "did not finish the answer within 2 s" in failure.message
    assert not any(isinstance(event, StreamCompleted) for event in events)


async def test_test_connection_to_a_silent_server_reports_it_within_the_deadline() -> None:
    with silent_server() as server:
        async with OpenAICompatBackend(
            provider(server.base_url, first_token_timeout_s=1), None
        ) as llm:
            report = await llm.test_connection()
    assert not report.ok
    assert report.message == "hung did not answer within 1 s"


async def test_stopping_a_stream_that_waits_for_a_silent_provider_ends_its_request() -> None:
    with silent_server() as server:
        async with OpenAICompatBackend(provider(server.base_url), None) as llm:
            reading = asyncio.create_task(events_of(llm))
            await wait_until(lambda: bool(server.requests()))
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            assert reading.cancelled()
        assert not [task for task in asyncio.all_tasks() if task.get_name() == "provider-stream"]
