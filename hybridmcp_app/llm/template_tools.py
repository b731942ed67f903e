"""Tool calls through a GGUF's own chat template: whether it takes tools, and what was called.

A template takes tools when rendering it with a probe tool shows that tool (Gemma 3 and SmolLM2
templates ignore ``tools``). Most templates read OpenAI's tool schemas as ``tools``; SmolLM3's
reads the bare function schemas as ``xml_tools`` (``template_tool_arguments`` picks the name the
template reads, for the probe and for every prompt alike). How the model then writes a call
depends on its family:

* ``hermes`` (Qwen 2.5/3, Hermes, SmolLM3 and the default): ``<tool_call>{"name": ...,
  "arguments": {...}}</tool_call>``, one block per call;
* ``llama3`` (Llama 3.1-3.3, whose templates speak of ``ipython``): the whole reply is
  ``{"name": ..., "parameters": {...}}``, perhaps after ``<|python_tag|>``, calls split by ``;``;
* ``mistral``: ``[TOOL_CALLS][{"name": ..., "arguments": {...}}]``, or (newer templates)
  ``[TOOL_CALLS]name[ARGS]{...}`` per call.

``CallStream`` lets the text before a call stream as usual and keeps the call out of the
answer; a call that cannot be read still becomes a ``ToolCall`` (named ``UNREADABLE`` when even
its name is lost) so the tool loop reports it in one line instead of failing the turn.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

from hybridmcp_app.core.inference import ToolCall

log = logging.getLogger("hybridmcp.llm.tools")
ToolCallFormat = Literal["hermes", "llama3", "mistral"]
UNREADABLE = "(unreadable)"
# Where a call starts, per format (llama3 also: a reply that opens with '{').
CALL_MARKERS: dict[ToolCallFormat, tuple[str, ...]] = {
    "hermes": ("<tool_call>",),
    "llama3": ("<|python_tag|>",),
    "mistral": ("[TOOL_CALLS]",),
}
# Special tokens that carry a call: generation shows them while tools are offered.
CALL_TOKENS = frozenset({"<tool_call>", "</tool_call>", "<|python_tag|>", "[TOOL_CALLS]", "[ARGS]"})
_PROBE_NAME = "hybridmcp_probe_tool"
_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": _PROBE_NAME,
        "description": "Probe.",
        "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
    },
}
_NAME = re.compile(r'"name"\s*:\s*"([^"]+)"')


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    """Sandboxed Jinja as llama-cpp-python's ``Jinja2ChatFormatter`` and transformers set it up."""
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(jinja2.ext.Extension):
        """Hugging Face's ``{% generation %}`` (marks the assistant's text for training):
        its body renders as is."""

        tags = {"generation"}  # noqa: RUF012 (jinja2 declares it so)

        def parse(self, parser: Any) -> Any:
            parser.stream.skip(1)
            return parser.parse_statements(("name:endgeneration",), drop_needle=True)

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = lambda value, indent=None, **_: json.dumps(
        value, ensure_ascii=False, indent=indent
    )
    return environment


@lru_cache(maxsize=16)
def _tools_variable(template: str) -> str:
    """The name ``template`` reads its tools under: ``tools``, else SmolLM3's ``xml_tools``."""
    import jinja2.meta

    try:
        read = jinja2.meta.find_undeclared_variables(_environment().parse(template))
    except Exception:  # a template that does not parse fails where it is rendered
        return "tools"
    return "xml_tools" if "xml_tools" in read and "tools" not in read else "tools"


def template_tool_arguments(
    template: str, tools: Sequence[dict[str, Any]] | None
) -> dict[str, Any]:
    """The template variables that hand ``tools`` (OpenAI schemas) to ``template`` under the
    name it reads. ``xml_tools`` take the bare function schemas, as SmolLM3's model card passes
    them (its ``python_tools`` are functions called from Python code, which is not read back)."""
    if not tools:
        return {"tools": None}
    if _tools_variable(template) == "xml_tools":
        return {"tools": None, "xml_tools": [tool.get("function", tool) for tool in tools]}
    return {"tools": list(tools)}


def render_template(
    template: str,
    messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None = None,
    bos_token: str = "",
    eos_token: str = "",
) -> str:
    """Render a Hugging Face chat template as llama-cpp-python does (sandboxed Jinja), with
    ``tools`` under the name the template reads."""

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    return (
        _environment()
        .from_string(template)
        .render(
            messages=messages,
            bos_token=bos_token,
            eos_token=eos_token,
            add_generation_prompt=True,
            raise_exception=raise_exception,
            strftime_now=lambda _format: "1 January 2025",
            **template_tool_arguments(template, tools),
        )
    )


def tool_call_format(template: str | None) -> ToolCallFormat | None:
    """How the template's model writes tool calls; None when the template takes no tools."""
    if not template:
        return None
    try:
        offered = render_template(
            template, [{"role": "user", "content": "Hello"}], tools=[_PROBE_TOOL]
        )
    except Exception as error:  # a template Jinja or the sandbox refuses: no tools then
        log.debug("chat template does not render with tools: %s", error)
        return None
    if _PROBE_NAME not in offered:  # the template ignores tools
        return None
    if "[TOOL_CALLS]" in template:
        return "mistral"
    if "<|python_tag|>" in template or "ipython" in template:
        return "llama3"
    return "hermes"


@dataclass(frozen=True)
class ParsedReply:
    """A reply split into its text and the calls it makes."""

    text: str
    calls: tuple[ToolCall, ...] = ()


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


def _as_call(value: Any, raw: str, arguments_key: str) -> ToolCall:
    """A decoded call object, or the raw text under whatever name can be read from it."""
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
        arguments = value.get(arguments_key, value.get("arguments", {}))
        text = (
            arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        )
        return ToolCall(id=_call_id(), name=value["name"], arguments=text or "{}")
    named = _NAME.search(raw)
    return ToolCall(
        id=_call_id(), name=named.group(1) if named else UNREADABLE, arguments=raw.strip() or "{}"
    )


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _json_values(text: str) -> tuple[list[Any], str]:
    """The JSON values in ``text``, one after another (``;`` or spaces between); the rest."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    index = 0
    while True:
        while index < len(text) and text[index] in " \t\r\n;,":
            index += 1
        if index >= len(text):
            return values, ""
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            return values, text[index:]
        values.append(value)


def _hermes(rest: str) -> list[ToolCall]:
    blocks = re.findall(r"<tool_call>(.*?)(?:</tool_call>|$)", rest, flags=re.DOTALL)
    return [_as_call(_decode(block.strip()), block, "arguments") for block in blocks]


def _llama3(rest: str) -> list[ToolCall]:
    values, left = _json_values(rest.replace("<|python_tag|>", ""))
    calls = [_as_call(value, json.dumps(value), "parameters") for value in values]
    if left.strip():
        calls.append(_as_call(None, left, "parameters"))
    return calls


def _mistral(rest: str) -> list[ToolCall]:
    body = rest.removeprefix("[TOOL_CALLS]").strip()
    if body.startswith("["):
        values, left = _json_values(body)
        if len(values) == 1 and isinstance(values[0], list) and not left.strip():
            return [_as_call(value, json.dumps(value), "arguments") for value in values[0]]
        return [_as_call(None, body, "arguments")]
    calls = []
    for part in body.split("[TOOL_CALLS]"):
        name, marker, arguments = part.partition("[ARGS]")
        name = name.split("[CALL_ID]")[0].strip()
        if marker and name and _decode(arguments.strip()) is not None:
            calls.append(ToolCall(id=_call_id(), name=name, arguments=arguments.strip()))
        else:
            calls.append(
                ToolCall(id=_call_id(), name=name or UNREADABLE, arguments=arguments or part)
            )
    return calls


def call_start(text: str, style: ToolCallFormat) -> int | None:
    """Where the first call in ``text`` starts, if it has one."""
    found = [i for i in (text.find(m) for m in CALL_MARKERS[style]) if i >= 0]
    if style == "llama3" and re.match(r"\s*\{\s*(\"|$)", text):
        found.append(len(text) - len(text.lstrip()))
    return min(found, default=None)


def parse_tool_calls(text: str, style: ToolCallFormat) -> ParsedReply:
    """``text`` as the model wrote it, split into what it said and what it called."""
    start = call_start(text, style)
    if start is None:
        return ParsedReply(text=text)
    rest = text[start:]
    bare = style == "llama3" and not rest.startswith("<|python_tag|>")
    if bare and re.match(r'\s*\{\s*"name"\s*:', rest) is None:
        return ParsedReply(text=text)  # JSON the model answered with, not a call
    parse = {"hermes": _hermes, "llama3": _llama3, "mistral": _mistral}[style]
    return ParsedReply(text=text[:start].rstrip(), calls=tuple(parse(rest)))


class CallStream:
    """Streams the text of a reply that may end in tool calls: what comes before a call is
    shown as it arrives (less the end that may still become a call's start), the call is not."""

    def __init__(self, style: ToolCallFormat) -> None:
        self.style = style
        self._text = ""
        self._shown = 0
        self._call_at: int | None = None

    def feed(self, piece: str) -> str:
        """Add generated text; returns the part that can be shown now."""
        self._text += piece
        if self._call_at is not None:
            return ""
        start = call_start(self._text, self.style)
        if start is not None:
            self._call_at = start
            return self._take(start)
        return self._take(len(self._text) - self._holdback())

    def finish(self) -> tuple[str, ParsedReply]:
        """The text still to show, and the whole reply split into text and calls."""
        parsed = parse_tool_calls(self._text, self.style)
        if parsed.calls:
            return "", parsed
        return self._take(len(self._text)), parsed

    def _take(self, end: int) -> str:
        shown = self._text[self._shown : max(end, self._shown)]
        self._shown = max(end, self._shown)
        return shown

    def _holdback(self) -> int:
        """How many trailing characters could still be the start of a call."""
        if self.style == "llama3" and not self._text.strip():
            return len(self._text)  # a reply that opens with '{' is a call
        longest = 0
        for marker in CALL_MARKERS[self.style]:
            for size in range(min(len(marker) - 1, len(self._text)), longest, -1):
                if self._text.endswith(marker[:size]):
                    longest = size
                    break
        return longest
