"""Turn chat messages into the prompt text a local model expects.

The model's own chat template (from its GGUF) wins; otherwise a named llama-cpp-python format;
base models without a template get their architecture's format. System text is folded into the
first user turn, since several formats (Gemma's among them) drop system messages.

Tool turns keep their OpenAI shape (an assistant's ``tool_calls`` with decoded arguments, as
Hugging Face templates expect; a ``tool`` message's ``tool_call_id``), so a template that takes
tools renders them itself; ``tools`` reach the template only when it is given, under the name the
template reads them (``template_tools.template_tool_arguments``: SmolLM3's is ``xml_tools``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import ChatMessage, ToolCall
from hybridmcp_app.llm.template_tools import template_tool_arguments

# Formats for GGUFs with no chat template, by architecture prefix.
_FORMAT_BY_ARCHITECTURE = (
    ("gemma", "gemma"),
    ("llama", "llama-2"),
    ("mistral", "mistral-instruct"),
    ("qwen", "chatml"),
    ("phi", "chatml"),
)


@dataclass(frozen=True)
class ChatPrompt:
    """The text to tokenize, whether a BOS token must be added, and extra stop strings."""

    text: str
    add_bos: bool
    stops: tuple[str, ...]


def _template_call(call: ToolCall) -> dict[str, Any]:
    try:
        arguments: Any = json.loads(call.arguments)
    except json.JSONDecodeError:
        arguments = call.arguments  # as the model wrote it
    function = {"name": call.name, "arguments": arguments}
    return {"id": call.id, "type": "function", "function": function}


def _as_dict(message: ChatMessage, content: str) -> dict[str, Any]:
    shaped: dict[str, Any] = {"role": message.role, "content": content}
    if message.tool_calls:
        shaped["tool_calls"] = [_template_call(call) for call in message.tool_calls]
    if message.tool_call_id:
        shaped["tool_call_id"] = message.tool_call_id
    if message.name:
        shaped["name"] = message.name
    return shaped


def fold_system_messages(messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    """Plain dicts for llama-cpp-python, with system text moved into the first user turn."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content.strip())
    folded: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        content = message.content
        if system and message.role == "user" and not any(m["role"] == "user" for m in folded):
            content = f"{system}\n\n{content}"
        folded.append(_as_dict(message, content))
    if system and not any(m["role"] == "user" for m in folded):
        folded.insert(0, {"role": "user", "content": system})
    return folded


def default_chat_format(architecture: str | None) -> str:
    arch = (architecture or "").lower()
    for prefix, name in _FORMAT_BY_ARCHITECTURE:
        if arch.startswith(prefix):
            return name
    return "chatml"


def build_chat_prompt(
    messages: tuple[ChatMessage, ...],
    *,
    chat_format: str | None,
    template: str | None,
    bos_text: str,
    eos_text: str,
    tools: Sequence[dict[str, Any]] = (),
) -> ChatPrompt:
    """Format with ``template`` (Jinja, from the GGUF) when given, else the named format;
    ``tools`` (OpenAI function schemas) go to the template under the name it reads."""
    from llama_cpp import llama_chat_format

    folded = fold_system_messages(messages)
    if chat_format is None and template:
        formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos_text, bos_token=bos_text, add_generation_prompt=True
        )
        response = formatter(messages=folded, **template_tool_arguments(template, tools))  # type: ignore[arg-type]
    else:
        name = chat_format or "chatml"
        # llama-cpp-python names its formatters format_<name> ('llama-2' -> format_llama2).
        candidates = ("format_" + name.replace("-", "_"), "format_" + name.replace("-", ""))
        function = next(
            (getattr(llama_chat_format, c) for c in candidates if hasattr(llama_chat_format, c)),
            None,
        )
        if function is None:
            raise BackendError(f"unknown chat format {name!r}")
        response = function(messages=folded)
    stops = response.stop if isinstance(response.stop, list) else [response.stop]
    text = response.prompt
    return ChatPrompt(
        text=text,
        add_bos=not (bos_text and text.startswith(bos_text)),
        stops=tuple(stop for stop in stops if stop),
    )
