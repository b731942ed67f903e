"""Grammar-forced tool calls for a local model that cannot choose tools on its own.

The model must write ``{"tool": NAME, "arguments": {...}}``: a JSON schema that the local backend
turns into a llama.cpp grammar. The schema has one ``oneOf`` branch per tool with that tool's
input schema loosened as far as a grammar needs (``grammar_schema``); should the backend still
refuse it, the generic one is used: the tool name as an enum and the arguments as any object.
Either way the arguments are checked against the tool's own schema afterwards.

Local chat formats know no tool roles, so tool turns are written out as plain text here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from hybridmcp_app.core.inference import ChatMessage, ToolCall
from hybridmcp_app.llm.template_tools import UNREADABLE as UNREADABLE
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.grammar_schema import grammar_schema

_DESCRIPTION_CHARS = 80


def _call_object(name_schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"tool": name_schema, "arguments": arguments},
        "required": ["tool", "arguments"],
        "additionalProperties": False,
    }


def generic_call_schema(tools: Sequence[McpTool]) -> dict[str, Any]:
    """Any of the tools by name, with any object as arguments."""
    names = [tool.qualified_name for tool in tools]
    return _call_object({"enum": names}, {"type": "object"})


def call_schema(tools: Sequence[McpTool]) -> dict[str, Any]:
    """The schema a forced call must match: one branch per tool, with its arguments schema as
    far as a grammar can carry it (``grammar_schema``)."""
    if not tools:
        raise ValueError("a forced tool call needs at least one tool")
    branches = [
        _call_object({"const": tool.qualified_name}, grammar_schema(tool.input_schema))
        for tool in tools
    ]
    return branches[0] if len(branches) == 1 else {"oneOf": branches}


def _kind(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return "one of " + ", ".join(json.dumps(value, ensure_ascii=False) for value in enum[:8])
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and branches:
        return "|".join(dict.fromkeys(_kind(branch) for branch in branches))
    declared = schema.get("type")
    if isinstance(declared, list):
        return "|".join(str(t) for t in declared)
    return str(declared) if isinstance(declared, str) else "any"


def describe_arguments(schema: dict[str, Any] | None) -> str:
    """The arguments in words, one per property: name, kind, whether required, what it is.

    Not the schema's JSON: a small model shown that copies it as its arguments."""
    properties = (schema or {}).get("properties")
    if not isinstance(properties, dict) or not properties:
        return "none"
    listed = (schema or {}).get("required")
    required = (
        {name for name in listed if isinstance(name, str)} if isinstance(listed, list) else set()
    )
    parts = []
    for name, property_schema in properties.items():
        text = f"{name} ({_kind(property_schema)}{', required' if name in required else ''})"
        description = (
            property_schema.get("description") if isinstance(property_schema, dict) else None
        )
        if isinstance(description, str) and description.strip():
            line = " ".join(description.split())
            cut = line if len(line) <= _DESCRIPTION_CHARS else line[: _DESCRIPTION_CHARS - 1] + "…"
            text += f": {cut}"
        parts.append(text)
    return "; ".join(parts)


def tool_instruction(tools: Sequence[McpTool]) -> str:
    """What the model is told before it writes the call (the grammar enforces the form)."""
    lines = [
        "Call a tool to help with the request above, taking the argument values from it.",
        "Tools:",
    ]
    for tool in tools:
        summary = " ".join((tool.description or tool.title or tool.name).split())
        arguments = describe_arguments(tool.input_schema)
        lines.append(f"- {tool.qualified_name}: {summary} Arguments: {arguments}")
    lines.append(
        'Reply with JSON only: {"tool": "...", "arguments": {...}}, the values taken from the '
        "request."
    )
    return "\n".join(lines)


def parse_forced_call(text: str, fallback_name: str | None) -> ToolCall:
    """The call the model wrote. Text that is not a call (cut off at the token limit, say)
    still becomes one, under ``fallback_name``, so the usual checks report it."""
    call_id = f"call_{uuid.uuid4().hex[:12]}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("tool"), str) and value["tool"]:
        arguments = value.get("arguments", {})
        return ToolCall(
            id=call_id,
            name=value["tool"],
            arguments=json.dumps(arguments, ensure_ascii=False),
        )
    return ToolCall(id=call_id, name=fallback_name or UNREADABLE, arguments=text or "{}")


def as_plain_chat(messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
    """Tool turns as text: a call becomes the assistant saying what it calls, results a user
    turn; neighbouring user turns are joined, since many chat templates demand alternation."""
    names = {call.id: call.name for message in messages for call in message.tool_calls}
    plain: list[ChatMessage] = []
    for message in messages:
        if message.role == "assistant" and message.tool_calls:
            calls = "\n".join(f"Calling {c.name} with {c.arguments}" for c in message.tool_calls)
            text = f"{message.content.strip()}\n{calls}" if message.content.strip() else calls
            converted = ChatMessage(role="assistant", content=text)
        elif message.role == "tool":
            name = message.name or names.get(message.tool_call_id or "", "the tool")
            converted = ChatMessage(role="user", content=f"Result of {name}:\n{message.content}")
        else:
            converted = message
        previous = plain[-1] if plain else None
        if previous is not None and previous.role == converted.role == "user":
            plain[-1] = ChatMessage(
                role="user", content=f"{previous.content}\n\n{converted.content}"
            )
        else:
            plain.append(converted)
    return tuple(plain)


def with_note_on_last_user_turn(
    messages: Sequence[ChatMessage], note: str
) -> tuple[ChatMessage, ...]:
    """Append ``note`` to the last user turn (or add one): system text would be folded into
    the first turn, far from the request it is about."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == "user":
            changed = message.model_copy(update={"content": f"{message.content}\n\n{note}"})
            return (*messages[:index], changed, *messages[index + 1 :])
    return (*messages, ChatMessage(role="user", content=note))
