"""The SDK's resources, templates, prompts and icons as the app's items (``mcp_items``)."""

from __future__ import annotations

from typing import Any

import mcp.types as types

from hybridmcp_app.mcp_host.mcp_items import (
    McpIcon,
    McpPrompt,
    McpPromptArgument,
    McpPromptMessage,
    McpResource,
    McpResourceContent,
    McpResourceTemplate,
)


def icons_of(icons: list[types.Icon] | None) -> tuple[McpIcon, ...]:
    return tuple(
        McpIcon(src=icon.src, mime_type=icon.mime_type, sizes=tuple(icon.sizes or ()))
        for icon in icons or ()
    )


def block_text(block: Any) -> str:
    """A prompt message's content as text: text as it is, an embedded text resource's text
    under its URI, anything else named in brackets."""
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        text = getattr(resource, "text", None)
        if text is not None:
            return f"[resource {resource.uri}]\n{text}"
        return f"[resource {resource.uri}, {resource.mime_type or 'binary'}, not included]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}]"
    if isinstance(block, types.ImageContent | types.AudioContent):
        return f"[{block.type} {block.mime_type}, not included]"
    return f"[{getattr(block, 'type', 'content')}]"


def resource_of(server: str, item: types.Resource) -> McpResource:
    return McpResource(
        server=server,
        uri=str(item.uri),
        name=item.name,
        description=item.description or "",
        mime_type=item.mime_type,
        title=item.title,
        size=item.size,
        icons=icons_of(item.icons),
    )


def template_of(server: str, item: types.ResourceTemplate) -> McpResourceTemplate:
    return McpResourceTemplate(
        server=server,
        uri_template=item.uri_template,
        name=item.name,
        title=item.title,
        description=item.description or "",
        mime_type=item.mime_type,
        icons=icons_of(item.icons),
    )


def content_of(item: types.TextResourceContents | types.BlobResourceContents) -> McpResourceContent:
    return McpResourceContent(
        uri=str(item.uri),
        mime_type=item.mime_type,
        text=getattr(item, "text", None),
        blob=getattr(item, "blob", None),
    )


def prompt_of(server: str, item: types.Prompt) -> McpPrompt:
    arguments = item.arguments or ()
    return McpPrompt(
        server=server,
        name=item.name,
        description=item.description or "",
        arguments=tuple(argument.name for argument in arguments),
        title=item.title,
        parameters=tuple(
            McpPromptArgument(
                name=argument.name,
                description=argument.description or "",
                required=bool(argument.required),
            )
            for argument in arguments
        ),
        icons=icons_of(item.icons),
    )


def messages_of(result: types.GetPromptResult) -> list[McpPromptMessage]:
    return [
        McpPromptMessage(role=message.role, text=block_text(message.content))
        for message in result.messages
    ]
