"""The local API's answers carry the run's audit (``hybridmcp``), which agrees with the ledger;
and a provider that is down is failed over to the local model, whole and streamed (the ``openai``
SDK as client, the real local model, a real llama.cpp provider or a dead port)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from hybridmcp_app.api_server.api_serving import serving
from hybridmcp_app.api_server.openai_api import OpenAIApi
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.services.turn_runner import TurnRunner
from tests.helpers.app_turns import memory_secrets, settings_with_provider, turn_runner
from tests.helpers.failing_provider import Reply, chunk, failing_provider
from tests.helpers.llama_server import LlamaServer, free_port
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
TOKEN = "api-test-token-0123456789"
QUESTION: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Name one colour of the rainbow."}
]


async def serve(turns: TurnRunner) -> AsyncIterator[str]:
    async with serving(OpenAIApi(TOKEN, turns)) as port:
        yield f"http://127.0.0.1:{port}/v1"
    await turns.providers.close()


@pytest.fixture
async def lab(
    app_paths: AppPaths, provider_server: LlamaServer, local_model: LocalModelService
) -> AsyncIterator[tuple[str, TurnRunner]]:
    settings = settings_with_provider(provider_server)
    turns = turn_runner(app_paths, settings, local_model, memory_secrets(provider_server.api_key))
    async for base_url in serve(turns):
        yield base_url, turns


def over(app_paths: AppPaths, local_model: LocalModelService, url: str) -> TurnRunner:
    """Turns over a provider "lab" at ``url`` (no retries) and the local model."""
    dead = {
        "name": "lab", "base_url": url, "default_model": "gemma", "max_retries": 0,
        "first_token_timeout_s": PATIENCE_S,
    }  # fmt: skip
    settings = Settings.model_validate({
        "llm": {"local": {"inference": {"parameters": {"temperature": 0, "max_tokens": 12}}}},
        "providers": {"items": [dead], "active": "lab"},
    })  # fmt: skip
    return turn_runner(app_paths, settings, local_model, memory_secrets())


@pytest.fixture
async def down(
    app_paths: AppPaths, local_model: LocalModelService
) -> AsyncIterator[tuple[str, TurnRunner]]:
    turns = over(app_paths, local_model, f"http://127.0.0.1:{free_port()}/v1")
    async for base_url in serve(turns):
        yield base_url, turns


def audit_of_completion(completion: Any) -> dict[str, Any]:
    extra = completion.model_extra or {}
    assert "hybridmcp" in extra, "the answer carries its audit"
    audit: dict[str, Any] = extra["hybridmcp"]
    return audit


async def test_a_hybrid_answer_carries_its_audit_and_it_agrees_with_the_ledger(
    lab: tuple[str, TurnRunner],
) -> None:
    base_url, turns = lab
    async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN) as client:
        completion = await client.chat.completions.create(
            model="hybrid/failover", messages=QUESTION, max_tokens=12, temperature=0
        )
    audit = audit_of_completion(completion)
    assert (audit["strategy"], audit["final_leg"], audit["failed_over"]) == (
        "failover", "provider", False,
    )  # fmt: skip
    (call,) = audit["provider_calls"]
    assert call["request"]["model"] == "gemma"
    assert call["request"]["messages"][-1] == {"role": "user", "content": QUESTION[0]["content"]}
    assert call["request"]["parameters"]["max_tokens"] == 12
    assert completion.usage is not None
    assert call["prompt_tokens"] == completion.usage.prompt_tokens
    assert call["prompt_tokens"] == audit["provider_prompt_tokens"]
    (recorded,) = turns.ledger.savings_history()
    assert recorded.saving == audit["saving"] == "none"
    assert recorded.tokens_saved == audit["prompt_tokens_saved"] == 0
    assert recorded.usage_reported is audit["provider_usage_reported"] is False


async def test_a_provider_that_is_down_is_answered_by_the_local_model_whole_and_streamed(
    down: tuple[str, TurnRunner],
) -> None:
    base_url, turns = down
    async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN, max_retries=0) as client:
        completion = await client.chat.completions.create(
            model="provider/lab", messages=QUESTION, max_tokens=12, temperature=0
        )
        stream = await client.chat.completions.create(
            model="provider/lab", messages=QUESTION, max_tokens=12, temperature=0, stream=True
        )
        chunks = [chunk async for chunk in stream]
    assert completion.choices[0].message.content
    audit = audit_of_completion(completion)
    assert (audit["final_leg"], audit["failed_over"], audit["saving"]) == ("local", True, "none")
    (call,) = audit["provider_calls"]
    assert call["error"].startswith("cannot reach lab") and call["prompt_tokens"] is None
    assert any(note.startswith("failed over to the local model") for note in audit["notes"])
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip() and "[the provider failed" not in text  # nothing had streamed before
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert audit_of_completion(chunks[-1])["failed_over"] is True
    history = turns.ledger.savings_history()
    assert [(point.strategy, point.saving) for point in history] == [("provider", "none")] * 2


async def test_a_stream_the_provider_breaks_off_says_so_and_the_local_answer_follows(
    app_paths: AppPaths, local_model: LocalModelService
) -> None:
    with failing_provider([Reply(sse=[chunk("Red,"), chunk(" or")])]) as breaking:
        async for base_url in serve(over(app_paths, local_model, breaking.base_url)):
            async with openai.AsyncOpenAI(base_url=base_url, api_key=TOKEN) as client:
                stream = await client.chat.completions.create(
                    model="provider/lab", messages=QUESTION, max_tokens=12, stream=True
                )
                chunks = [piece async for piece in stream]
    text = "".join(piece.choices[0].delta.content or "" for piece in chunks if piece.choices)
    streamed, _, local = text.partition("\n\n[the provider failed: the local model answers]\n\n")
    assert streamed == "Red, or" and local.strip()
    audit = audit_of_completion(chunks[-1])
    assert audit["failed_over"] is True and audit["final_leg"] == "local"
