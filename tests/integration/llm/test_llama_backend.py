"""LlamaCppBackend against the real embedded Gemma 3 270M model."""

import asyncio
import json
import logging

import pytest

from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    ResponseFormat,
    StreamCompleted,
    StreamEvent,
    StreamFailed,
    StreamStarted,
    TextDelta,
)
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.llama_backend import LlamaCppBackend

GREEDY = ModelParameters(temperature=0.0, max_tokens=6, stop=("\n",))


def few_shot(country: str) -> InferenceRequest:
    """A completion-style prompt: what a base model is good at."""
    text = (
        "Q: What is the capital of France?\nA: Paris\n"
        "Q: What is the capital of Germany?\nA: Berlin\n"
        f"Q: What is the capital of {country}?\nA:"
    )
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),), raw_prompt=True, parameters=GREEDY
    )


def chat(text: str, **parameters: object) -> InferenceRequest:
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        parameters=ModelParameters.model_validate(parameters),
    )


async def collect(backend: LlamaCppBackend, request: InferenceRequest) -> list[StreamEvent]:
    return [event async for event in backend.stream(request)]


async def test_a_few_shot_prompt_gets_the_right_answer(gemma: LlamaCppBackend) -> None:
    response = await gemma.complete(few_shot("Italy"))
    assert response.text.strip() == "Rome"
    assert response.finish_reason == "stop"
    assert response.model == "Gemma 3 270M (base, demo)"


async def test_the_stream_starts_streams_text_and_completes_with_metrics(
    gemma: LlamaCppBackend,
) -> None:
    events = await collect(gemma, chat("Tell me about the sea.", max_tokens=24, temperature=0.0))
    assert isinstance(events[0], StreamStarted)
    assert isinstance(events[-1], StreamCompleted)
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert len(deltas) > 3
    response = events[-1].response
    assert response.text == "".join(deltas)
    assert response.usage.prompt_tokens > 5
    assert response.usage.completion_tokens == 24
    assert response.finish_reason == "length"
    timings = response.timings
    assert timings.time_to_first_token_s is not None and 0 < timings.time_to_first_token_s < 5
    assert timings.decode_tokens_per_s is not None and timings.decode_tokens_per_s > 1
    assert timings.total_s >= timings.time_to_first_token_s
    assert timings.load_s > 0
    assert response.cost_usd == 0.0


def finished(caplog: pytest.LogCaptureFixture, request: InferenceRequest) -> str:
    """How the backend says the request ended, e.g. 'cancelled after 3 token(s)'."""
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith(f"answer {request.request_id}: "):
            return message.split(": ", 1)[1]
    raise AssertionError(f"no log line for request {request.request_id}")


async def test_a_stopped_answer_ends_at_once_and_the_model_answers_the_next_correctly(
    gemma: LlamaCppBackend, caplog: pytest.LogCaptureFixture
) -> None:
    story = chat("Tell a very long story.", max_tokens=400)
    seen = 0
    with caplog.at_level(logging.INFO, logger="hybridmcp.llm"):
        async for event in gemma.stream(story):
            if isinstance(event, TextDelta):
                seen += 1
                if seen == 3:
                    break
        response = await gemma.complete(few_shot("Japan"))
    assert response.text.strip() == "Tokyo"
    ending = finished(caplog, story)
    assert ending.startswith("cancelled after ")
    assert int(ending.split()[2]) <= seen + 2  # stopped at the next token, not 400 later


async def test_a_stop_during_prompt_processing_takes_effect_at_the_first_token(
    gemma: LlamaCppBackend, caplog: pytest.LogCaptureFixture
) -> None:
    long_prompt = "The history of the lighthouse keepers on the northern coast. " * 120
    request = chat(long_prompt, max_tokens=400)
    with caplog.at_level(logging.INFO, logger="hybridmcp.llm"):
        async for event in gemma.stream(request):
            assert isinstance(event, StreamStarted)
            break
        response = await gemma.complete(few_shot("Spain"))
    assert response.text.strip() == "Madrid"
    assert finished(caplog, request).startswith("cancelled after 0 token(s)")


async def test_concurrent_requests_queue_and_each_gets_its_own_answer(
    gemma: LlamaCppBackend,
) -> None:
    countries = ["Italy", "Japan", "Spain", "Italy"]
    responses = await asyncio.gather(*(gemma.complete(few_shot(c)) for c in countries))
    assert [r.text.strip() for r in responses] == ["Rome", "Tokyo", "Madrid", "Rome"]


async def test_a_choice_grammar_always_yields_one_of_the_choices(gemma: LlamaCppBackend) -> None:
    grammar = 'root ::= "Yes" | "No" | "Irrelevant"'
    for seed in range(8):
        request = InferenceRequest(
            messages=(ChatMessage(role="user", content="Did the man die at sea?"),),
            response_format=ResponseFormat(type="grammar", grammar=grammar),
            parameters=ModelParameters(temperature=1.2, seed=seed, max_tokens=8),
        )
        response = await gemma.complete(request)
        assert response.text in {"Yes", "No", "Irrelevant"}


async def test_json_schema_output_always_parses_and_matches(gemma: LlamaCppBackend) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 16},
            "age": {"type": "integer"},
            "pet": {"enum": ["cat", "dog", "none"]},
        },
        "required": ["name", "age", "pet"],
    }
    for seed in range(5):
        request = InferenceRequest(
            messages=(ChatMessage(role="user", content="Describe a person as JSON."),),
            response_format=ResponseFormat(type="json_schema", json_schema=schema),
            parameters=ModelParameters(temperature=1.0, seed=seed, max_tokens=120),
        )
        response = await gemma.complete(request)
        data = json.loads(response.text)
        assert set(data) == {"name", "age", "pet"}
        assert isinstance(data["age"], int)
        assert data["pet"] in {"cat", "dog", "none"}


async def test_an_invalid_grammar_fails_clearly_and_the_model_keeps_working(
    gemma: LlamaCppBackend,
) -> None:
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content="x"),),
        response_format=ResponseFormat(type="grammar", grammar="root ::= ( unclosed"),
    )
    events = await collect(gemma, request)
    assert isinstance(events[-1], StreamFailed)
    assert "grammar constraint is invalid" in events[-1].message
    assert (await gemma.complete(few_shot("Italy"))).text.strip() == "Rome"


async def test_log_probabilities_come_per_answer_token(gemma: LlamaCppBackend) -> None:
    request = few_shot("Italy").model_copy(update={"logprobs": True})
    response = await gemma.complete(request)
    assert len(response.token_logprobs) == response.usage.completion_tokens
    assert all(lp <= 0.0 for lp in response.token_logprobs)
    assert response.token_logprobs[0] > -2.0  # " Rome" is an easy guess after two examples


async def test_the_same_seed_gives_the_same_sampled_answer_whatever_ran_before(
    gemma: LlamaCppBackend,
) -> None:
    request = chat("Once upon a time", temperature=1.0, seed=1234, max_tokens=20)
    answers = [(await gemma.complete(request)).text, (await gemma.complete(request)).text]
    # Earlier requests leave the model's cache holding other text: one that shares the start of
    # this prompt, one that does not. Neither may change a seeded answer.
    for earlier in ("Once upon a", "Tell me about the sea."):
        await gemma.complete(chat(earlier, temperature=0.0, max_tokens=8))
        answers.append((await gemma.complete(request)).text)
    assert answers == [answers[0]] * 4


async def test_system_text_reaches_the_model_inside_the_first_user_turn(
    gemma: LlamaCppBackend,
) -> None:
    request = InferenceRequest(
        messages=(
            ChatMessage(role="system", content="SYSTEM-MARKER-42"),
            ChatMessage(role="user", content="hello"),
        ),
        parameters=ModelParameters(temperature=0.0, max_tokens=1),
    )
    with_system = await gemma.complete(request)
    without = await gemma.complete(chat("hello", temperature=0.0, max_tokens=1))
    assert with_system.usage.prompt_tokens > without.usage.prompt_tokens + 5


async def test_a_prompt_longer_than_the_context_is_refused_clearly(
    gemma: LlamaCppBackend,
) -> None:
    events = await collect(gemma, chat("word " * 3000, max_tokens=10))
    assert isinstance(events[-1], StreamFailed)
    assert "context window holds 2048" in events[-1].message


@pytest.mark.parametrize("max_tokens", [1, 3])
async def test_max_tokens_is_respected_exactly(gemma: LlamaCppBackend, max_tokens: int) -> None:
    response = await gemma.complete(chat("Count to ten:", temperature=0.0, max_tokens=max_tokens))
    assert response.usage.completion_tokens == max_tokens
