"""Checking a model's tool arguments and bounding results: messages, never exceptions."""

from __future__ import annotations

import json
from typing import Any

from hybridmcp_app.mcp_host.mcp_items import ToolCallOutcome
from hybridmcp_app.orchestration.tool_arguments import check_arguments, truncate_outcome

ADD: dict[str, Any] = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}


def test_valid_arguments_are_returned_as_an_object() -> None:
    checked = check_arguments('{"a": 2, "b": 3}', ADD)
    assert checked.error is None and checked.arguments == {"a": 2, "b": 3}
    assert checked.pretty("ignored") == '{\n  "a": 2,\n  "b": 3\n}'


def test_empty_arguments_mean_none_at_all() -> None:
    assert check_arguments("  ", {"type": "object"}).arguments == {}


def test_broken_json_is_reported_with_the_parsers_words() -> None:
    checked = check_arguments('{"a": 2, "b": ', ADD)
    assert checked.error is not None and checked.error.startswith(
        "the arguments are not valid JSON"
    )
    assert checked.pretty('{"a": 2, "b": ') == '{"a": 2, "b": '


def test_arguments_must_be_an_object() -> None:
    assert check_arguments("[1, 2]", ADD).error == "the arguments must be a JSON object, not list"


def test_schema_violations_name_each_argument() -> None:
    checked = check_arguments('{"a": "two"}', ADD)
    assert checked.error is not None
    assert "arguments.a: 'two' is not of type 'integer'" in checked.error
    assert "arguments: 'b' is a required property" in checked.error


def test_a_copy_of_the_schema_is_refused_even_where_the_schema_would_let_it_through() -> None:
    # Nothing required and extra keys allowed: jsonschema alone would pass this echo.
    lenient = {"type": "object", "properties": {"message": {"type": "string"}}}
    checked = check_arguments(json.dumps(lenient), lenient)
    assert checked.error == "the model wrote a JSON schema instead of values for the arguments"
    assert check_arguments(json.dumps({"type": "object"}), ADD).error == checked.error


def test_arguments_named_like_schema_keywords_are_values_when_the_tool_declares_them() -> None:
    typed = {"type": "object", "properties": {"type": {"type": "string"}}}
    assert check_arguments('{"type": "note"}', typed).error is None


def test_a_broken_schema_leaves_the_judgement_to_the_server() -> None:
    checked = check_arguments('{"a": 1}', {"type": "no-such-type"})
    assert checked.error is None and checked.arguments == {"a": 1}


def test_long_results_are_cut_and_say_so() -> None:
    outcome = ToolCallOutcome(text="y" * 100, is_error=True)
    cut, truncated = truncate_outcome(outcome, 40)
    assert truncated and cut.is_error
    assert cut.text == "y" * 40 + "\n[truncated: the first 40 of 100 characters are shown]"
    same, truncated = truncate_outcome(outcome, 100)
    assert same is outcome and not truncated
