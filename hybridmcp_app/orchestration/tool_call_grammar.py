"""Grammar-forced tool calls for a local model that cannot choose tools on its own.

The model must write ``{"tool": NAME, "arguments": {...}}``: a JSON schema that the local backend
turns into a llama.cpp grammar. The precise schema has one ``oneOf`` branch per tool with that
tool's own input schema (its ``$defs`` moved to the root, renamed per tool); when a tool's schema
cannot be carried over, or the backend refuses the precise schema, the generic one is used: the
tool name as an enum and the arguments as any object (checked afterwards like every call).

Local chat formats know no tool roles, so tool turns are written out as plain text here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from hybridmcp_app.core.inference import ChatMessage, ToolCall
from hybridmcp_app.mcp_host.mcp_items import McpTool

UNREADABLE = "(unreadable)"
_DEF_PREFIXES = ("#/$defs/", "#/definitions/")


def _rewrite_refs(node: Any, prefix: str) -> Any:
    """A copy of ``node`` with local definition refs renamed; raises ValueError for other refs."""
    if isinstance(node, dict):
        copied: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target = next((value[len(p) :] for p in _DEF_PREFIXES if value.startswith(p)), None)
                if target is None:
                    raise ValueError(f"unsupported $ref {value!r}")
                copied[key] = f"#/$defs/{prefix}{target}"
            else:
                copied[key] = _rewrite_refs(value, prefix)
        return copied
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    return node


def _arguments_schema(tool: McpTool, prefix: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The tool's input schema without its definitions, and those renamed; None if it cannot be
    carried into a combined schema."""
    schema = dict(tool.input_schema or {"type": "object"})
    definitions: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        found = schema.pop(key, None)
        if isinstance(found, dict):
            definitions.update(found)
    schema.pop("$schema", None)
    schema.pop("$id", None)
    try:
        body = _rewrite_refs(schema, prefix)
        renamed = {f"{prefix}{name}": _rewrite_refs(d, prefix) for name, d in definitions.items()}
    except ValueError:
        return None
    if body.get("type", "object") != "object":
        return None
    if "properties" in body:
        # Keys the tool does not declare are of no use to it, and a small model left free to
        # add them can ramble until its token limit.
        body.setdefault("additionalProperties", False)
    return body, renamed


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


def call_schema(tools: Sequence[McpTool]) -> tuple[dict[str, Any], bool]:
    """The schema a forced call must match, and whether it is the precise one."""
    if not tools:
        raise ValueError("a forced tool call needs at least one tool")
    branches: list[dict[str, Any]] = []
    definitions: dict[str, Any] = {}
    for index, tool in enumerate(tools):
        carried = _arguments_schema(tool, f"t{index}-")
        if carried is None:
            return generic_call_schema(tools), False
        arguments, renamed = carried
        definitions.update(renamed)
        branches.append(_call_object({"const": tool.qualified_name}, arguments))
    schema = branches[0] if len(branches) == 1 else {"oneOf": branches}
    if definitions:
        schema = {**schema, "$defs": definitions}
    return schema, True


def tool_instruction(tools: Sequence[McpTool]) -> str:
    """What the model is told before it writes the call (the grammar enforces the form)."""
    lines = [
        "Call a tool to help with the request above, taking the argument values from it.",
        "Tools:",
    ]
    for tool in tools:
        summary = tool.description or tool.title or tool.name
        schema = json.dumps(tool.input_schema, separators=(",", ":"), ensure_ascii=False)
        lines.append(f"- {tool.qualified_name}: {summary.strip()} Arguments: {schema}")
    lines.append('Reply with JSON only: {"tool": "<name>", "arguments": {...}}')
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
