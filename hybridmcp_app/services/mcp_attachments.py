"""Resources of MCP servers attached to a chat prompt: browse the resources and templates of the
ready servers, complete a template's arguments (``completion/complete``), read one resource
into an ``Attachment``, and hand the attachments to the turn as context documents (the same
path as the library's passages).

Text is attached as it is, cut at ``MAX_ATTACHMENT_CHARS`` with a note saying so. Binary
content is refused with a one-line reason: no model of the app reads images yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.mcp_host.mcp_items import (
    McpResource,
    McpResourceContent,
    McpResourceTemplate,
)

if TYPE_CHECKING:  # the MCP SDK is imported after start-up
    from hybridmcp_app.mcp_host.mcp_client import MCPClient

log = logging.getLogger("hybridmcp.services.attachments")
MAX_ATTACHMENT_CHARS = 40_000  # about 10,000 tokens: more is cut, with a note


class McpOffer(Protocol):
    """What attaching needs of the MCP host (``McpRegistry`` is one)."""

    def resources(self) -> list[McpResource]: ...

    def ready_servers(self) -> list[str]: ...

    def client(self, server: str) -> MCPClient: ...


class Attachment(FrozenModel):
    """One resource's text, attached to the next prompt."""

    server: str
    uri: str
    title: str
    text: str
    note: str = ""  # e.g. that it was cut

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)

    @property
    def label(self) -> str:
        return f"{self.server}: {self.title}"


def template_arguments(template: McpResourceTemplate) -> list[str]:
    """The names a template's URI needs (RFC 6570), in order."""
    from mcp.shared.uri_template import InvalidUriTemplate, UriTemplate

    try:
        return UriTemplate.parse(template.uri_template).variable_names
    except InvalidUriTemplate as error:
        raise HybridMCPError(f"{template.server}: bad resource template: {error}") from None


def expand_template(template: McpResourceTemplate, values: dict[str, str]) -> str:
    """The resource's URI for ``values``; every argument must be given."""
    from mcp.shared.uri_template import UriTemplate

    missing = [name for name in template_arguments(template) if not values.get(name, "").strip()]
    if missing:
        raise HybridMCPError(f"{template.name} needs {', '.join(missing)}")
    return UriTemplate.parse(template.uri_template).expand(values)


def attachment_of(
    server: str, uri: str, title: str, contents: Sequence[McpResourceContent],
    *, max_chars: int = MAX_ATTACHMENT_CHARS,
) -> Attachment:  # fmt: skip
    """The text parts of a read resource, joined and cut at ``max_chars``; binary parts are
    refused (HybridMCPError, one line)."""
    binary = [part for part in contents if part.text is None]
    if binary:
        kind = binary[0].mime_type or "binary data"
        what = "an image" if kind.startswith("image/") else "binary"
        raise HybridMCPError(
            f"{title} is {what} ({kind}): the chat's models read text only, so it was not attached"
        )
    text = "\n\n".join(part.text or "" for part in contents)
    if not text.strip():
        raise HybridMCPError(f"{title} is empty: nothing to attach")
    note = ""
    if len(text) > max_chars:
        note = f"cut to the first {max_chars:,} of {len(text):,} characters"
        text = text[:max_chars]
    return Attachment(server=server, uri=uri, title=title, text=text, note=note)


def context_of(attachments: Sequence[Attachment]) -> tuple[ContextDocument, ...]:
    """The attachments as the turn's context documents, titled with server and URI."""
    return tuple(
        ContextDocument(
            title=f"(resource {item.uri} from {item.server}"
            + (f"; {item.note})" if item.note else ")"),
            text=item.text,
        )
        for item in attachments
    )


def meter_text(prompt: str, attachments: Sequence[Attachment]) -> str:
    """The token meter under the chat input: the prompt and its attachments, estimated."""
    typed = estimate_tokens(prompt)
    attached = sum(item.tokens for item in attachments)
    if not attachments:
        return f"≈ {typed:,} tokens"
    return f"≈ {typed + attached:,} tokens ({typed:,} typed + {attached:,} attached)"


class McpAttachments:
    """Browses and reads the resources of the ready MCP servers."""

    def __init__(self, offer: McpOffer, *, max_chars: int = MAX_ATTACHMENT_CHARS) -> None:
        self._offer, self._max_chars = offer, max_chars

    def resources(self) -> list[McpResource]:
        return self._offer.resources()

    async def templates(self) -> list[McpResourceTemplate]:
        """Every ready server's resource templates; a server that fails to list is skipped
        (and logged)."""
        found: list[McpResourceTemplate] = []
        for server in self._offer.ready_servers():
            try:
                found += await self._offer.client(server).list_resource_templates()
            except (HybridMCPError, LookupError) as error:
                log.info("%s: no resource templates: %s", server, error)
        return found

    async def complete(
        self, template: McpResourceTemplate, argument: str, value: str, given: dict[str, str]
    ) -> list[str]:
        """The server's suggestions for one argument ([] when it has none or fails)."""
        try:
            client = self._offer.client(template.server)
            return await client.complete(template.uri_template, argument, value, given)
        except (HybridMCPError, LookupError) as error:
            log.info("%s: no completion for %s: %s", template.server, argument, error)
            return []

    async def read(self, server: str, uri: str, title: str) -> Attachment:
        """Read ``uri`` from ``server``; HybridMCPError with one line when it cannot be had."""
        try:
            contents = await self._offer.client(server).read_resource_contents(uri)
        except LookupError as error:
            raise HybridMCPError(str(error).strip("'\"")) from None
        except HybridMCPError as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise HybridMCPError(f"could not read {title}: {first}") from None
        return attachment_of(server, uri, title, contents, max_chars=self._max_chars)

    async def read_template(
        self, template: McpResourceTemplate, values: dict[str, str]
    ) -> Attachment:
        uri = expand_template(template, values)
        given = ", ".join(values[name] for name in template_arguments(template))
        return await self.read(template.server, uri, f"{template.name} ({given})")
