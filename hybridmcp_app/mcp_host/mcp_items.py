"""What MCP servers offer, as the rest of the app sees it: tools, resources, prompts, call results.

Tools are namespaced ``server__tool`` so two servers may offer tools of the same name.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel

NAMESPACE_SEPARATOR = "__"


def qualified_name(server: str, name: str) -> str:
    return f"{server}{NAMESPACE_SEPARATOR}{name}"


def split_qualified_name(qualified: str) -> tuple[str, str]:
    """``server__tool`` → (server, tool); raises ValueError when there is no server part."""
    server, separator, name = qualified.partition(NAMESPACE_SEPARATOR)
    if not separator or not server or not name:
        raise ValueError(f"{qualified!r} is not a namespaced tool name (server__tool)")
    return server, name


class McpIcon(FrozenModel):
    """An icon a server sends for a tool, resource or prompt (2025-11-25): where it is, its type
    and sizes (``48x48``, ``any``)."""

    src: str
    mime_type: str | None = None
    sizes: tuple[str, ...] = ()


class McpTool(FrozenModel):
    """One tool of one server, with its annotations (hints, as the server declares them)."""

    server: str
    name: str
    title: str | None = None
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    read_only: bool = False
    destructive: bool = True  # the MCP default when a server says nothing
    idempotent: bool = False
    icons: tuple[McpIcon, ...] = ()

    @property
    def qualified_name(self) -> str:
        return qualified_name(self.server, self.name)

    def openai_schema(self) -> dict[str, Any]:
        """The tool as an OpenAI ``tools`` entry (function calling)."""
        return {
            "type": "function",
            "function": {
                "name": self.qualified_name,
                "description": (self.description or self.title or self.name)[:1024],
                "parameters": self.input_schema or {"type": "object"},
            },
        }


class McpResource(FrozenModel):
    server: str
    uri: str
    name: str
    description: str = ""
    mime_type: str | None = None
    title: str | None = None
    size: int | None = None  # bytes, when the server says
    icons: tuple[McpIcon, ...] = ()


class McpResourceTemplate(FrozenModel):
    """Resources a server makes from arguments: ``uri_template`` is an RFC 6570 template."""

    server: str
    uri_template: str
    name: str
    title: str | None = None
    description: str = ""
    mime_type: str | None = None
    icons: tuple[McpIcon, ...] = ()


class McpResourceContent(FrozenModel):
    """One part of a read resource: ``text``, or ``blob`` (base64) for binary content."""

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: str | None = None


class McpPromptArgument(FrozenModel):
    name: str
    description: str = ""
    required: bool = False


class McpPromptMessage(FrozenModel):
    """One message of a prompt the server filled in, as text (embedded resources included)."""

    role: str  # "user" or "assistant"
    text: str


class McpPrompt(FrozenModel):
    server: str
    name: str
    description: str = ""
    arguments: tuple[str, ...] = ()
    title: str | None = None
    parameters: tuple[McpPromptArgument, ...] = ()  # the arguments with what is known of them
    icons: tuple[McpIcon, ...] = ()

    @property
    def qualified_name(self) -> str:
        return qualified_name(self.server, self.name)


class ToolCallOutcome(FrozenModel):
    """A tool's answer as text for the model; ``is_error`` when the tool or the call failed."""

    text: str
    is_error: bool = False
    structured: dict[str, Any] | None = None


class ToolCaller(Protocol):
    """What the tool loop needs from the host: the usable tools, and a way to call one."""

    def tools(self) -> list[McpTool]:
        """Tools of ready, enabled servers that are themselves enabled."""
        ...

    async def call(self, qualified: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        """Call ``server__tool``; failures come back as an outcome with ``is_error``."""
        ...
