"""Loosening a tool's input schema until llama-cpp-python's converter makes a grammar of it that
llama.cpp accepts; what is loosened is left to the check of the arguments afterwards."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from llama_cpp.llama_grammar import json_schema_to_gbnf

from hybridmcp_app.llm.llama_generation import MAX_GRAMMAR_NESTING, grammar_nesting
from hybridmcp_app.orchestration.grammar_schema import ANY, ANY_OBJECT, MAX_BOUND, grammar_schema


def loosened_property(schema: dict[str, Any]) -> dict[str, Any]:
    loosened = grammar_schema({"type": "object", "properties": {"p": schema}})
    return dict(loosened["properties"]["p"])


def test_long_length_bounds_are_left_to_the_check_and_short_ones_kept() -> None:
    long = loosened_property({"type": "string", "minLength": 1, "maxLength": 4096})
    assert long == {"type": "string", "minLength": 1}
    short = loosened_property({"type": "string", "maxLength": 3})
    assert short == {"type": "string", "maxLength": 3}


def test_item_counts_beyond_the_bound_are_dropped() -> None:
    loosened = loosened_property(
        {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_BOUND + 1}
    )
    assert loosened == {"type": "array", "items": {"type": "integer"}}


def test_patterns_and_unknown_formats_go_and_dates_stay() -> None:
    assert loosened_property({"type": "string", "pattern": "[A-Z]{3}"}) == {"type": "string"}
    assert loosened_property({"type": "string", "format": "email"}) == {"type": "string"}
    assert loosened_property({"type": "string", "format": "date"})["format"] == "date"


def test_local_refs_are_inlined_and_remote_ones_become_any_value() -> None:
    schema = {
        "type": "object",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "properties": {
            "at": {"$ref": "#/$defs/Point"},
            "far": {"$ref": "https://example.com/schema.json"},
        },
    }
    loosened = grammar_schema(schema)
    assert loosened["properties"]["at"]["properties"] == {"x": {"type": "integer"}}
    assert loosened["properties"]["far"] == ANY


def test_a_recursive_schema_ends_in_any_value() -> None:
    loosened = grammar_schema({"type": "object", "properties": {"next": {"$ref": "#"}}})
    text = json.dumps(loosened)
    assert text.count('"next"') >= 3 and json.dumps(ANY) in text


def test_unions_mixed_enums_and_the_empty_schema() -> None:
    assert loosened_property({"anyOf": [{"type": "string"}, {"type": "null"}]}) == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert loosened_property({"enum": [1, "one", None]}) == {"enum": [1, "one", None]}
    assert loosened_property({}) == ANY
    assert loosened_property({"type": ["integer", "number"]}) == {"type": "number"}


def test_all_of_parts_are_merged_into_one_object() -> None:
    loosened = loosened_property(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "integer"}}},
            ]
        }
    )
    assert set(loosened["properties"]) == {"a", "b"} and loosened["required"] == ["a"]


def test_a_tool_without_arguments_takes_the_empty_object_only() -> None:
    loosened = grammar_schema({"type": "object", "properties": {}})
    assert loosened == {"type": "object", "properties": {}, "required": []}
    assert json_schema_to_gbnf(json.dumps(loosened)).startswith('root ::= "{" space  "}" space\n')


@pytest.mark.parametrize(
    "schema",
    [
        None,
        {"type": "string"},
        {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(200)}},
        {"anyOf": [{"type": "object"}, {"type": "array"}]},
    ],
    ids=["none", "not-an-object", "too-many-properties", "union-at-the-top"],
)
def test_what_cannot_be_an_arguments_object_schema_becomes_any_object(
    schema: dict[str, Any] | None,
) -> None:
    assert grammar_schema(schema) == ANY_OBJECT


def test_a_schema_that_inlines_to_thousands_of_nodes_becomes_any_object() -> None:
    wide = {f"p{i}": {"$ref": "#"} for i in range(8)}
    assert grammar_schema({"type": "object", "properties": wide}) == ANY_OBJECT


HARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {
        "Node": {"type": "object", "properties": {"kids": {"items": {"$ref": "#/$defs/Node"}}}}
    },
    "properties": {
        "text": {"type": "string", "maxLength": 1_048_576, "pattern": "^(a|b)*?$"},
        "code": {"type": "string", "pattern": "[A-Z]{3}"},
        "when": {"type": "string", "format": "date-time"},
        "mail": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 5000},
        "mode": {"enum": ["a", 1, True, None, {"x": 1}]},
        "any": {},
        "maybe": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        "tree": {"$ref": "#/$defs/Node"},
        "map": {"type": "object", "additionalProperties": {"type": "number"}},
        "not": {"not": {"type": "string"}},
        "both": {"allOf": [{"$ref": "#/$defs/Node"}, {"required": ["kids"]}]},
    },
    "required": ["text", "missing"],
    "additionalProperties": False,
}


def test_a_schema_with_every_hard_feature_converts_to_a_shallow_grammar() -> None:
    loosened = grammar_schema(HARD_SCHEMA)
    grammar = json_schema_to_gbnf(json.dumps(loosened))
    assert grammar_nesting(grammar) <= MAX_GRAMMAR_NESTING
    assert loosened["required"] == ["text"]
    value = {"text": "ab", "code": "EUR", "mode": 1, "map": {"k": 2.5}, "tree": {"kids": []}}
    jsonschema.validate(value, loosened)  # what the tool accepts, the grammar lets through


def test_the_raw_schema_gives_a_grammar_nested_as_deep_as_its_max_length() -> None:
    # Why the loosening exists: this grammar ends the process when llama.cpp parses it.
    raw = {"type": "object", "properties": {"t": {"type": "string", "maxLength": 100_000}}}
    assert grammar_nesting(json_schema_to_gbnf(json.dumps(raw))) >= 100_000
