"""Native tool calls through real chat templates: which take tools, how tools and tool turns are
rendered, and how each family's calls are read back (streamed text stays text)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hybridmcp_app.core.inference import ChatMessage, ToolCall
from hybridmcp_app.llm.chat_prompt import build_chat_prompt
from hybridmcp_app.llm.template_tools import (
    UNREADABLE,
    CallStream,
    ToolCallFormat,
    parse_tool_calls,
    template_tool_arguments,
    tool_call_format,
)
from tests.helpers.gguf_files import chat_template

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
ROUND = (
    ChatMessage(role="user", content="What is 17 plus 25?"),
    ChatMessage(
        role="assistant",
        tool_calls=(ToolCall(id="call_1", name="calc__add", arguments='{"a": 17, "b": 25}'),),
    ),
    ChatMessage(role="tool", tool_call_id="call_1", content="42"),
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Qwen-Qwen2.5-7B-Instruct", "hermes"),
        ("Qwen-Qwen3-0.6B", "hermes"),
        ("NousResearch-Hermes-3-Llama-3.1-8B-tool_use", "hermes"),
        ("meta-llama-Llama-3.1-8B-Instruct", "llama3"),
        ("meta-llama-Llama-3.2-3B-Instruct", "llama3"),
        ("mistralai-Mistral-Nemo-Instruct-2407", "mistral"),
        ("Mistral-Small-3.2-24B-Instruct-2506", "mistral"),
        ("HuggingFaceTB-SmolLM3-3B-hub", "hermes"),  # reads them as xml_tools
        ("HuggingFaceTB-SmolLM3-3B", None),  # llama.cpp's edited copy dropped the tools
        ("HuggingFaceTB-SmolLM2-135M-Instruct", None),
        ("google-gemma-2-2b-it", None),
    ],
)
def test_a_template_takes_tools_only_when_rendering_it_shows_them(
    template: str, expected: ToolCallFormat | None
) -> None:
    assert tool_call_format(chat_template(template)) == expected


def test_no_template_or_one_that_does_not_render_takes_no_tools() -> None:
    assert tool_call_format(None) is None
    assert tool_call_format("{% for m in messages %}{{ m.content }") is None  # broken Jinja
    assert tool_call_format("{{ raise_exception('no tools here') }}") is None


def render(
    template: str, messages: tuple[ChatMessage, ...], tools: tuple[dict[str, Any], ...]
) -> str:
    prompt = build_chat_prompt(
        messages,
        chat_format=None,
        template=chat_template(template),
        bos_text="<s>",
        eos_text="</s>",
        tools=tools,
    )
    return prompt.text


def test_qwens_template_renders_the_tools_and_the_tool_turns_itself() -> None:
    text = render("Qwen-Qwen2.5-7B-Instruct", ROUND, (ADD,))
    assert "<tools>" in text and '"name": "calc__add"' in text
    assert (
        '<tool_call>\n{"name": "calc__add", "arguments": {"a": 17, "b": 25}}\n</tool_call>' in text
    )
    assert "<tool_response>\n42\n</tool_response>" in text
    assert "Result of" not in text  # not the plain-text fallback
    assert text.endswith("<|im_start|>assistant\n")


def test_llamas_template_renders_calls_with_parameters_and_results_as_ipython() -> None:
    text = render("meta-llama-Llama-3.2-3B-Instruct", ROUND, (ADD,))
    assert '"name": "calc__add"' in text and "Given the following functions" in text
    assert '{"name": "calc__add", "parameters": {"a": 17, "b": 25}}' in text
    # The template writes a result as JSON (a string is iterable to Jinja), as in transformers.
    assert '<|start_header_id|>ipython<|end_header_id|>\n\n"42"' in text


def test_without_tools_the_template_renders_none() -> None:
    text = render("Qwen-Qwen2.5-7B-Instruct", ROUND[:1], ())
    assert "<tools>" not in text and "calc__add" not in text


def test_smollm3s_template_gets_the_tools_as_xml_tools_and_renders_them() -> None:
    text = render("HuggingFaceTB-SmolLM3-3B-hub", ROUND[:1], (ADD,))
    assert "### Tools" in text and "<tools>\n{'name': 'calc__add', 'description'" in text
    assert "within <tool_call></tool_call> XML tags" in text
    assert "'type': 'function'" not in text  # the bare function schema, as its model card passes
    assert text.endswith("<|im_start|>user\nWhat is 17 plus 25?<|im_end|>\n<|im_start|>assistant\n")
    assert "### Tools" not in render("HuggingFaceTB-SmolLM3-3B-hub", ROUND[:1], ())


def test_templates_that_read_tools_get_them_as_tools_unchanged() -> None:
    qwen = chat_template("Qwen-Qwen2.5-7B-Instruct")
    assert template_tool_arguments(qwen, [ADD]) == {"tools": [ADD]}
    assert template_tool_arguments(qwen, []) == {"tools": None}
    smol = chat_template("HuggingFaceTB-SmolLM3-3B-hub")
    assert template_tool_arguments(smol, [ADD]) == {"tools": None, "xml_tools": [ADD["function"]]}


def test_smollm3s_calls_are_read_in_the_format_its_template_asks_for() -> None:
    # The template's own instruction: <tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>
    reply = parse_tool_calls(
        '<think>\nI should add.\n</think>\n<tool_call>\n{"name": "calc__add", "arguments": '
        '{"a": 17, "b": 25}}\n</tool_call>',
        tool_call_format(chat_template("HuggingFaceTB-SmolLM3-3B-hub")) or "llama3",
    )
    assert reply.text == "<think>\nI should add.\n</think>"
    assert [(c.name, arguments(c)) for c in reply.calls] == [("calc__add", {"a": 17, "b": 25})]


def arguments(call: ToolCall) -> object:
    return json.loads(call.arguments)


def test_hermes_calls_are_read_with_the_text_before_them() -> None:
    reply = parse_tool_calls(
        'Let me add.\n<tool_call>\n{"name": "calc__add", "arguments": {"a": 1, "b": 2}}\n'
        '</tool_call>\n<tool_call>\n{"name": "calc__add", "arguments": {"a": 3, "b": 4}}\n'
        "</tool_call>",
        "hermes",
    )
    assert reply.text == "Let me add."
    assert [c.name for c in reply.calls] == ["calc__add", "calc__add"]
    assert [arguments(c) for c in reply.calls] == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert len({c.id for c in reply.calls}) == 2


def test_llama_calls_are_bare_json_with_parameters() -> None:
    reply = parse_tool_calls('{"name": "calc__add", "parameters": {"a": 1, "b": 2}}', "llama3")
    assert reply.text == "" and arguments(reply.calls[0]) == {"a": 1, "b": 2}
    tagged = parse_tool_calls(
        '<|python_tag|>{"name": "calc__add", "parameters": {"a": 5, "b": 6}}', "llama3"
    )
    assert [(c.name, arguments(c)) for c in tagged.calls] == [("calc__add", {"a": 5, "b": 6})]


def test_a_json_answer_that_is_not_a_call_stays_text() -> None:
    reply = parse_tool_calls('{"capital": "Paris"}', "llama3")
    assert reply.text == '{"capital": "Paris"}' and reply.calls == ()
    assert parse_tool_calls("Paris is the capital.", "hermes").calls == ()


def test_mistral_calls_are_read_in_both_forms() -> None:
    listed = parse_tool_calls(
        '[TOOL_CALLS][{"name": "calc__add", "arguments": {"a": 1, "b": 2}}]', "mistral"
    )
    assert [(c.name, arguments(c)) for c in listed.calls] == [("calc__add", {"a": 1, "b": 2})]
    split = parse_tool_calls('[TOOL_CALLS]calc__add[ARGS]{"a": 3, "b": 4}', "mistral")
    assert [(c.name, arguments(c)) for c in split.calls] == [("calc__add", {"a": 3, "b": 4})]


def test_a_malformed_call_is_still_a_call_with_what_could_be_read() -> None:
    cut = parse_tool_calls('<tool_call>\n{"name": "calc__add", "arguments": {"a": 1', "hermes")
    (call,) = cut.calls
    assert call.name == "calc__add" and call.arguments.startswith('{"name"')
    (nameless,) = parse_tool_calls("<tool_call>\nadd one and two\n</tool_call>", "hermes").calls
    assert nameless.name == UNREADABLE and nameless.arguments == "add one and two"
    (broken,) = parse_tool_calls("[TOOL_CALLS][{oops", "mistral").calls
    assert broken.name == UNREADABLE


def stream(style: ToolCallFormat, pieces: list[str]) -> tuple[list[str], str, tuple[ToolCall, ...]]:
    calls = CallStream(style)
    shown = [calls.feed(piece) for piece in pieces]
    rest, reply = calls.finish()
    return shown, rest, reply.calls


def test_text_streams_as_usual_and_the_call_is_kept_out_of_it() -> None:
    pieces = ["Let me ", "add.", "\n<tool", '_call>\n{"name": "calc__add", ', '"arguments": {}}']
    shown, rest, calls = stream("hermes", pieces)
    assert shown[:2] == ["Let me ", "add."]
    assert shown[2] == "\n"  # '<tool' might start a call: held back
    assert "".join(shown) + rest == "Let me add.\n" and [c.name for c in calls] == ["calc__add"]


def test_a_held_back_start_that_becomes_no_call_is_shown() -> None:
    shown, rest, calls = stream("hermes", ["1 <", "2 and 3 > 2"])
    assert shown == ["1 ", "<2 and 3 > 2"] and rest == "" and calls == ()
    shown, rest, calls = stream("llama3", ['{"capital"', ': "Paris"}'])
    assert shown == ["", ""] and rest == '{"capital": "Paris"}' and calls == ()
