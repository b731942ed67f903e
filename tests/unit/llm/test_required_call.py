"""The grammar of a required tool call in each template's own call format (the grammar held on a
real model: tests/integration/llm/test_required_call.py)."""

from __future__ import annotations

from typing import Any

import pytest

from hybridmcp_app.llm.required_call import required_call_grammar, required_tools
from hybridmcp_app.llm.template_tools import ToolCallFormat


def tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = parameters or {"type": "object", "properties": {"city": {"type": "string"}}}
    return {"type": "function", "function": {"name": name, "parameters": schema}}


WEATHER, ADD = (
    tool("weather"),
    tool("add", {"type": "object", "properties": {"a": {"type": "integer"}}}),
)


def rules(grammar: str) -> dict[str, str]:
    return dict(line.split(" ::= ", 1) for line in grammar.splitlines())


@pytest.mark.parametrize(
    ("choice", "names"),
    [
        ("required", ["weather", "add"]),
        ({"type": "function", "function": {"name": "add"}}, ["add"]),
        ("auto", []),
        ("none", []),
        (None, []),
    ],
)
def test_only_a_required_or_named_choice_requires_a_call_and_a_name_narrows_it(
    choice: Any, names: list[str]
) -> None:
    required = required_tools((WEATHER, ADD), choice)
    assert [entry["function"]["name"] for entry in required] == names


@pytest.mark.parametrize(
    ("style", "template", "root"),
    [
        ("hermes", "", '"<tool_call>" "\\n"? required-call "\\n"? "</tool_call>"'),
        ("llama3", "", "required-call"),
        ("mistral", "[TOOL_CALLS][", '"[TOOL_CALLS]" "[" space required-call "]"'),
        ("mistral", "[TOOL_CALLS]{{ name }}[ARGS]", '"[TOOL_CALLS]" required-call'),
    ],
)
def test_the_call_is_wrapped_in_the_formats_own_opener_and_closer(
    style: ToolCallFormat, template: str, root: str
) -> None:
    assert rules(required_call_grammar(style, template, [WEATHER], precise=True))["root"] == root


def test_each_offered_tool_is_one_branch_naming_it_with_its_own_arguments() -> None:
    grammar = rules(required_call_grammar("hermes", "", [WEATHER, ADD], precise=True))
    call = grammar["required-call"]
    assert call.count(" | ") == 1
    assert (
        '"\\"weather\\"" space "," space "\\"arguments\\"" space ":" space tool0-arguments' in call
    )
    assert '"\\"add\\"" space "," space "\\"arguments\\"" space ":" space tool1-arguments' in call
    assert grammar["tool0-arguments-city-kv"].endswith("string")
    assert grammar["tool1-arguments-a-kv"].endswith("integer")


def test_llama3_calls_carry_parameters_and_newer_mistral_ones_name_then_args() -> None:
    llama3 = rules(required_call_grammar("llama3", "", [ADD], precise=True))["required-call"]
    assert '"\\"parameters\\""' in llama3 and 'arguments\\"' not in llama3
    mistral = rules(required_call_grammar("mistral", "[ARGS]", [ADD], precise=True))
    assert mistral["required-call"] == '( "add" "[ARGS]" tool0-arguments )'


def test_without_precision_the_arguments_are_any_object() -> None:
    grammar = rules(required_call_grammar("hermes", "", [ADD], precise=False))
    assert grammar["tool0-arguments"] == "object"
    assert not any(name.startswith("tool0-arguments-") for name in grammar)


def test_a_call_needs_a_tool_with_a_name() -> None:
    with pytest.raises(ValueError, match="at least one tool"):
        required_call_grammar("hermes", "", [], precise=True)
    with pytest.raises(ValueError, match="without a name"):
        required_call_grammar("hermes", "", [{"type": "function", "function": {}}], precise=True)
