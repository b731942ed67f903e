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
    describe_arguments,
    generic_call_schema,
    parse_forced_call,
    tool_instruction,
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
    schema = call_schema([ADD])
    jsonschema.validate({"tool": "calc__add", "arguments": {"a": 1, "b": 2}}, schema)
    for wrong in ({"tool": "calc__add", "arguments": {"a": "1"}}, {"tool": "x", "arguments": {}}):
        assert not jsonschema.Draft202012Validator(schema).is_valid(wrong)


def test_several_tools_become_one_branch_each_with_their_definitions_inlined() -> None:
    schema = call_schema([PLOT, ADD])
    assert len(schema["oneOf"]) == 2 and "$ref" not in json.dumps(schema)
    plot_call: dict[str, Any] = {
        "tool": "geo__plot",
        "arguments": {"point": {"x": 1, "y": 2}, "label": "A"},
    }
    jsonschema.validate(plot_call, schema)
    plot_call["arguments"]["point"] = {"x": "one"}
    assert not jsonschema.Draft202012Validator(schema).is_valid(plot_call)


def test_the_call_schema_converts_to_a_llama_cpp_grammar() -> None:
    grammar = json_schema_to_gbnf(json.dumps(call_schema([PLOT, ADD])))
    assert '"\\"calc__add\\""' in grammar and '"\\"point\\""' in grammar


def test_a_recursive_schema_still_gives_a_schema_for_each_tool() -> None:
    tree = McpTool(
        server="s",
        name="tree",
        input_schema={"type": "object", "properties": {"child": {"$ref": "#"}}},
    )
    schema = call_schema([tree, ADD])
    tree_branch = schema["oneOf"][0]
    assert tree_branch["properties"]["tool"] == {"const": "s__tree"}
    jsonschema.validate({"tool": "s__tree", "arguments": {"child": {"child": {}}}}, schema)
    assert json_schema_to_gbnf(json.dumps(schema))


def test_the_generic_schema_names_the_tools_and_takes_any_object() -> None:
    schema = generic_call_schema([PLOT, ADD])
    assert schema["properties"]["tool"] == {"enum": ["geo__plot", "calc__add"]}
    assert schema["properties"]["arguments"] == {"type": "object"}


def test_the_instruction_describes_the_arguments_in_words_not_as_the_schema() -> None:
    echo = McpTool(
        server="everything",
        name="echo",
        description="Echoes back the input string",
        input_schema={
            "type": "object",
            "properties": {"message": {"type": "string", "description": "Message to echo"}},
            "required": ["message"],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    )
    text = tool_instruction([echo, ADD])
    echo_line = "- everything__echo: Echoes back the input string Arguments: message (string, "
    assert echo_line + "required): Message to echo" in text.splitlines()
    assert "a (integer, required); b (integer, required)" in text
    assert '"properties"' not in text and "$schema" not in text


def test_a_tool_without_arguments_is_described_as_taking_none() -> None:
    assert describe_arguments({"type": "object", "properties": {}}) == "none"
    assert describe_arguments(None) == "none"


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
