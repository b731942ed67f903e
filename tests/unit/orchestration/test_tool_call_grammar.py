"""The schema a local model's forced call must match, reading the call, and tool turns as text."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from llama_cpp.llama_grammar import json_schema_to_gbnf
from pydantic import BaseModel

from hybridmcp_app.core.inference import ChatMessage, ToolCall
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.tool_call_grammar import (
    UNREADABLE,
    as_plain_chat,
    call_schema,
    parse_forced_call,
    with_note_on_last_user_turn,
)

ADD = McpTool(
    server="calc",
    name="add",
    description="Add two integers.",
    input_schema={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)


class Point(BaseModel):
    x: int
    y: int


class PlotArguments(BaseModel):
    point: Point
    label: str


PLOT = McpTool(server="geo", name="plot", input_schema=PlotArguments.model_json_schema())


def test_one_tool_gives_its_own_arguments_schema() -> None:
    schema, precise = call_schema([ADD])
    assert precise
    jsonschema.validate({"tool": "calc__add", "arguments": {"a": 1, "b": 2}}, schema)
    for wrong in ({"tool": "calc__add", "arguments": {"a": "1"}}, {"tool": "x", "arguments": {}}):
        assert not jsonschema.Draft202012Validator(schema).is_valid(wrong)


def test_several_tools_become_one_branch_each_with_definitions_moved_to_the_root() -> None:
    schema, precise = call_schema([PLOT, ADD])
    assert precise and len(schema["oneOf"]) == 2
    assert set(schema["$defs"]) == {"t0-Point"}
    plot_call: dict[str, Any] = {
        "tool": "geo__plot",
        "arguments": {"point": {"x": 1, "y": 2}, "label": "A"},
    }
    jsonschema.validate(plot_call, schema)
    plot_call["arguments"]["point"] = {"x": "one"}
    assert not jsonschema.Draft202012Validator(schema).is_valid(plot_call)


def test_the_precise_schema_converts_to_a_llama_cpp_grammar() -> None:
    schema, _ = call_schema([PLOT, ADD])
    grammar = json_schema_to_gbnf(json.dumps(schema))
    assert '"\\"calc__add\\""' in grammar and "t0-Point ::=" in grammar


def test_a_schema_with_refs_that_cannot_move_falls_back_to_any_object() -> None:
    odd = McpTool(
        server="s",
        name="tree",
        input_schema={"type": "object", "properties": {"child": {"$ref": "#"}}},
    )
    schema, precise = call_schema([odd, ADD])
    assert not precise
    assert schema["properties"]["tool"] == {"enum": ["s__tree", "calc__add"]}
    assert schema["properties"]["arguments"] == {"type": "object"}


def test_a_forced_call_is_read_from_the_models_json() -> None:
    call = parse_forced_call('{ "tool": "calc__add", "arguments": { "a": 1, "b": 2 } }', None)
    assert call.name == "calc__add" and json.loads(call.arguments) == {"a": 1, "b": 2}
    assert call.id.startswith("call_")


def test_text_that_is_not_a_call_keeps_its_text_for_the_usual_checks() -> None:
    cut_off = '{ "tool": "calc__add", "arguments": { "a": 1'
    assert parse_forced_call(cut_off, "calc__add").arguments == cut_off
    assert parse_forced_call(cut_off, None).name == UNREADABLE


def test_tool_turns_become_alternating_plain_text() -> None:
    call = ToolCall(id="c1", name="calc__add", arguments='{"a": 1, "b": 2}')
    messages = (
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="1 + 2?"),
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", tool_call_id="c1", content="3"),
        ChatMessage(role="user", content="Thanks."),
    )
    plain = as_plain_chat(messages)
    assert [m.role for m in plain] == ["system", "user", "assistant", "user"]
    assert plain[2].content == 'Calling calc__add with {"a": 1, "b": 2}'
    assert plain[3].content == "Result of calc__add:\n3\n\nThanks."
    assert all(not m.tool_calls for m in plain)


def test_a_note_goes_to_the_last_user_turn() -> None:
    messages = (ChatMessage(role="user", content="Q"), ChatMessage(role="assistant", content="A"))
    noted = with_note_on_last_user_turn(messages, "Use a tool.")
    assert noted[0].content == "Q\n\nUse a tool." and noted[1] == messages[1]
