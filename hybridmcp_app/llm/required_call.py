"""A tool call the local model must make (``tool_choice`` "required" or one named function),
written in its template's own call format and held there by a llama.cpp grammar.

The grammar is the format's opener, one JSON call whose name is one of the offered tools and
whose arguments follow that tool's input schema, and the closer; then the model can only end its
turn. Per format (see ``template_tools``):

* ``hermes``: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``;
* ``llama3``: ``{"name": ..., "parameters": {...}}``;
* ``mistral``: ``[TOOL_CALLS][{"name": ..., "arguments": {...}}]``, or ``[TOOL_CALLS]name[ARGS]
  {...}`` where the template writes calls so (Mistral Small 3.2 and later).

The schemas go through llama-cpp-python's JSON-schema converter. A schema it cannot turn into a
usable grammar is replaced by "any object" (``precise=False``); the arguments are then checked
against the tool's own schema by whoever receives the call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import InferenceRequest
from hybridmcp_app.llm.template_tools import ToolCallFormat

if TYPE_CHECKING:
    from llama_cpp.llama_grammar import LlamaGrammar

log = logging.getLogger("hybridmcp.llm.tools")
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def required_call(
    style: ToolCallFormat,
    template: str,
    request: InferenceRequest,
    compile_grammar: Callable[[str], LlamaGrammar],
) -> LlamaGrammar | None:
    """The grammar of the one call the request's tool choice asks for (None when it asks for
    none), compiled and checked by ``compile_grammar``: each tool's own schema, else any object
    as arguments. ``BackendError`` when neither can be used."""
    tools = required_tools(request.tools, request.tool_choice)
    if not tools:
        return None
    reason = ""
    for precise in (True, False):
        try:
            return compile_grammar(required_call_grammar(style, template, tools, precise=precise))
        except Exception as error:  # the converter asserts, raises KeyError...
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.info("required tool call (precise=%s): no grammar: %s", precise, reason)
    raise BackendError(f"the required tool call cannot be constrained: {reason}")


def required_tools(
    tools: Sequence[dict[str, Any]], tool_choice: str | dict[str, Any] | None
) -> tuple[dict[str, Any], ...]:
    """The tools one of which must be called: all of them for "required", the named one for a
    named choice, none otherwise (the model may answer in text)."""
    if tool_choice == "required":
        return tuple(tools)
    if isinstance(tool_choice, dict):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        return tuple(tool for tool in tools if _function(tool).get("name") == name)
    return ()


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function", tool)
    return function if isinstance(function, dict) else {}


def required_call_grammar(
    style: ToolCallFormat, template: str, tools: Sequence[dict[str, Any]], *, precise: bool
) -> str:
    """The GBNF grammar of one call to one of ``tools`` (OpenAI schemas) in ``style``; with
    ``precise`` each tool's arguments follow its input schema, else any JSON object. Raises
    (``ValueError`` and whatever the converter raises) when it cannot be built."""
    from llama_cpp.llama_grammar import SchemaConverter

    if not tools:
        raise ValueError("a required tool call needs at least one tool")
    converter: Any = SchemaConverter(  # type: ignore[no-untyped-call]
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
    )

    def literal(text: str) -> str:
        return str(converter._format_literal(text))

    named = "[ARGS]" in template  # Mistral's newer [TOOL_CALLS]name[ARGS]{...}
    key = "parameters" if style == "llama3" else "arguments"
    calls: list[str] = []
    for index, tool in enumerate(tools):
        function = _function(tool)
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("a tool without a name cannot be called")
        schema = function.get("parameters") if precise else None
        schema = schema if isinstance(schema, dict) and schema else ANY_OBJECT
        resolved = converter.resolve_refs(json.loads(json.dumps(schema)), f"tool{index}")
        arguments = converter.visit(resolved, f"tool{index}-arguments")
        if style == "mistral" and named:
            calls.append(f"{literal(name)} {literal('[ARGS]')} {arguments}")
        else:
            calls.append(
                f'"{{" space {literal(json.dumps("name"))} space ":" space '
                f"{literal(json.dumps(name))} space "
                f'"," space {literal(json.dumps(key))} space ":" space {arguments} "}}" space'
            )
    call = converter._add_rule("required-call", " | ".join(f"( {c} )" for c in calls))
    opener, closer = {
        "hermes": ('"<tool_call>" "\\n"?', '"\\n"? "</tool_call>"'),
        "llama3": ("", ""),
        "mistral": ('"[TOOL_CALLS]"', "") if named else ('"[TOOL_CALLS]" "[" space', '"]"'),
    }[style]
    converter._add_rule("root", " ".join(part for part in (opener, call, closer) if part))
    return str(converter.format_grammar())
