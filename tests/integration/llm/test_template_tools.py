"""A real model (SmolLM2 135M's weights) under a chat template that takes tools (Qwen 2.5's):
the tools and tool turns reach it through the template.

At temperature 0 this tiny model answers these prompts in text rather than with a call (tried:
"What is 17 plus 25?", "Please add 17 and 25.", "Use the calc__add tool to add 2 and 3.", with
the Qwen 2.5 and Hermes 3 templates), and nothing is constrained to make it call: reading calls
back is tested on the real templates' formats in tests/unit/llm/test_template_tools.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    StreamCompleted,
    TextDelta,
    ToolCall,
)
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.chat_prompt import build_chat_prompt
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from tests.helpers.gguf_files import chat_template, retemplated_gguf

pytestmark = pytest.mark.integration
ADD = {
    "type": "function",
    "function": {
        "name": "calc__add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
QUESTION = ChatMessage(role="user", content="What is 17 plus 25?")


def ask(
    *messages: ChatMessage, tools: tuple[dict[str, Any], ...] = (), choice: str | None = None
) -> InferenceRequest:
    return InferenceRequest(
        messages=messages,
        tools=tools,
        tool_choice=choice,
        parameters=ModelParameters(temperature=0.0, max_tokens=48),
    )


async def test_a_model_whose_template_takes_tools_says_so_and_its_prompt_carries_them(
    tool_template_model: LlamaCppBackend,
) -> None:
    capabilities = tool_template_model.capabilities
    assert capabilities.supports_tools and capabilities.supports_grammar
    prompt = build_chat_prompt(
        (QUESTION,), chat_format=None, template=capabilities.chat_template,
        bos_text="", eos_text="<|im_end|>", tools=(ADD,),
    )  # fmt: skip
    assert "<tools>" in prompt.text and '"name": "calc__add"' in prompt.text
    with_tools = await tool_template_model.complete(ask(QUESTION, tools=(ADD,), choice="auto"))
    without = await tool_template_model.complete(ask(QUESTION))
    assert with_tools.usage.prompt_tokens > without.usage.prompt_tokens + 50


async def test_its_answer_without_a_call_streams_as_text(
    tool_template_model: LlamaCppBackend,
) -> None:
    streamed: list[str] = []
    final = None
    async for event in tool_template_model.stream(ask(QUESTION, tools=(ADD,), choice="auto")):
        if isinstance(event, TextDelta):
            streamed.append(event.text)
        elif isinstance(event, StreamCompleted):
            final = event.response
    assert final is not None and final.tool_calls == ()
    assert final.text.strip() and "".join(streamed) == final.text


async def test_a_tool_result_rendered_by_the_template_reaches_the_model(
    tool_template_model: LlamaCppBackend,
) -> None:
    call = ToolCall(id="call_1", name="calc__add", arguments='{"a": 17, "b": 25}')
    history = (
        QUESTION,
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", tool_call_id="call_1", content="4217"),
    )
    response = await tool_template_model.complete(ask(*history, tools=(ADD,), choice="none"))
    assert "4217" in response.text and response.tool_calls == ()


async def test_a_model_under_smollm3s_template_gets_its_tools_as_xml_tools(
    model_cache: Path, tmp_path: Path
) -> None:
    path = retemplated_gguf(
        SMOLLM2.locate(model_cache),
        tmp_path / "smollm2-smollm3-template.gguf",
        chat_template("HuggingFaceTB-SmolLM3-3B-hub"),
    )
    backend = await LlamaCppBackend.open(path, InferenceSettings(n_ctx=2048))
    try:
        assert backend.capabilities.supports_tools
        with_tools = await backend.complete(ask(QUESTION, tools=(ADD,), choice="auto"))
        without = await backend.complete(ask(QUESTION))
    finally:
        await backend.close()
    assert with_tools.usage.prompt_tokens > without.usage.prompt_tokens + 50
