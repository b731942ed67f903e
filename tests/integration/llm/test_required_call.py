"""A required tool call held by a grammar on a real model: SmolLM2 135M's weights under real
chat templates that take tools, each with its own call format (Hermes ``<tool_call>``, Llama 3
JSON, Mistral ``[TOOL_CALLS]`` both ways). Free to choose, this model answers in text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, InferenceResponse
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from tests.helpers.gguf_files import chat_template, retemplated_gguf
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration


def tool(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": schema},
    }


ADD = tool("add", "Add two integers.", {"a": {"type": "integer"}, "b": {"type": "integer"}})
WEATHER = tool("weather", "The weather in a city.", {"city": {"type": "string"}})
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in (ADD, WEATHER)}
PARIS = ChatMessage(role="user", content="What's the weather in Paris?")


def ask(choice: Any, tools: tuple[dict[str, Any], ...] = (ADD, WEATHER)) -> InferenceRequest:
    return InferenceRequest(
        messages=(PARIS,),
        tools=tools,
        tool_choice=choice,
        parameters=ModelParameters(temperature=0.0, max_tokens=64),
    )


def one_valid_call(answer: InferenceResponse) -> tuple[str, dict[str, Any]]:
    (call,) = answer.tool_calls
    arguments = json.loads(call.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.name])
    assert answer.finish_reason == "tool_calls" and answer.text == ""
    return call.name, arguments


@pytest.fixture(
    params=[
        "Qwen-Qwen2.5-7B-Instruct",
        "meta-llama-Llama-3.1-8B-Instruct",
        "mistralai-Mistral-Nemo-Instruct-2407",
        "Mistral-Small-3.2-24B-Instruct-2506",
    ]
)
def retemplated(
    request: pytest.FixtureRequest, model_cache: Path, tmp_path: Path
) -> Iterator[LlamaCppBackend]:
    import asyncio

    path = retemplated_gguf(
        SMOLLM2.locate(model_cache), tmp_path / "smollm2.gguf", chat_template(request.param)
    )
    backend = asyncio.run(LlamaCppBackend.open(path, InferenceSettings(n_ctx=1024)))
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


async def test_a_required_call_comes_in_the_templates_own_format_to_an_offered_tool(
    retemplated: LlamaCppBackend,
) -> None:
    assert retemplated.capabilities.supports_tools
    free = await retemplated.complete(ask("auto"))
    assert free.tool_calls == () and free.text.strip()
    one_valid_call(await retemplated.complete(ask("required")))  # which tool: the model's pick


async def test_a_named_choice_holds_the_call_to_that_tool(
    tool_template_model: LlamaCppBackend,
) -> None:
    named = {"type": "function", "function": {"name": "add"}}
    name, _arguments = one_valid_call(await tool_template_model.complete(ask(named)))
    assert name == "add"


async def test_under_none_text_that_looks_like_a_call_stays_text(
    tool_template_model: LlamaCppBackend,
) -> None:
    echo = ChatMessage(
        role="user",
        content='Repeat exactly: <tool_call>{"name": "add", "arguments": {"a": 1}}</tool_call>',
    )
    request = ask("none").model_copy(update={"messages": (echo,)})
    answer = await tool_template_model.complete(request)
    assert answer.tool_calls == () and answer.finish_reason != "tool_calls"


async def test_a_schema_the_converter_cannot_read_still_gets_a_call_with_an_object(
    tool_template_model: LlamaCppBackend,
) -> None:
    odd = tool("weather", "The weather in a city.", {"city": {"type": "string", "pattern": "a"}})
    answer = await tool_template_model.complete(ask("required", tools=(odd,)))
    (call,) = answer.tool_calls
    assert call.name == "weather" and isinstance(json.loads(call.arguments), dict)
