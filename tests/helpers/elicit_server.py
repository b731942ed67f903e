"""An MCP server (built with the ``mcp`` SDK, run over stdio) whose tools ask the user through
the host: ``python -m tests.helpers.elicit_server``.

Each tool sends one ``elicitation/create`` the way the negotiated revision wants it: inside an
``InputRequiredResult`` at 2026-07-28 (the client answers and retries), or as a request of its
own in a 2025 session. It returns what the host answered, as JSON text:
``{"action": ..., "content": ...}``, or ``{"error": message}`` when the host answered with an
error.

Tools: ``book_table`` (a form with every kind of field), ``share_key`` (a form asking for an API
key), ``nested`` (a form with a nested object), ``visit`` (URL mode, https), ``visit_file``
(URL mode, a file: URL).
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

BOOKING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Your name", "minLength": 2, "default": "Ada"},
        "email": {"type": "string", "format": "email", "title": "Email"},
        "day": {"type": "string", "format": "date", "title": "Day"},
        "guests": {"type": "integer", "minimum": 1, "maximum": 8, "default": 2},
        "budget": {"type": "number", "minimum": 0},
        "terrace": {"type": "boolean", "title": "Outside", "default": False},
        "room": {
            "type": "string",
            "title": "Room",
            "oneOf": [
                {"const": "main", "title": "Main hall"},
                {"const": "cellar", "title": "Cellar"},
            ],
        },
        "menu": {
            "type": "string",
            "enum": ["set", "carte"],
            "enumNames": ["Set menu", "À la carte"],
        },
        "diet": {
            "type": "array",
            "title": "Dietary needs",
            "items": {
                "anyOf": [
                    {"const": "vegan", "title": "Vegan"},
                    {"const": "nuts", "title": "No nuts"},
                ]
            },
            "maxItems": 2,
        },
    },
    "required": ["name", "email", "guests"],
}
KEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"api_key": {"type": "string", "title": "Your API key"}},
    "required": ["api_key"],
}
NESTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"address": {"type": "object", "properties": {"street": {"type": "string"}}}},
}


async def ask(ctx: Context, params: types.ElicitRequestParams) -> str | types.InputRequiredResult:
    """Ask the client once, in the negotiated revision's way; the answer as JSON text."""
    request = types.ElicitRequest(params=params)
    try:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            answered = (ctx.input_responses or {}).get("question")
            if answered is None:
                return types.InputRequiredResult(input_requests={"question": request})
            result = types.ElicitResult.model_validate(answered.model_dump(by_alias=True))
        else:
            result = await ctx.session.send_request(
                request,
                types.ElicitResult,
                metadata=ServerMessageMetadata(related_request_id=ctx.request_id),
            )
    except MCPError as error:
        return json.dumps({"error": error.error.message})
    return json.dumps({"action": result.action, "content": result.content})


def build() -> MCPServer:
    server = MCPServer("elicit")

    @server.tool()
    async def book_table(ctx: Context) -> str | types.InputRequiredResult:
        """Ask for a table booking (every kind of form field)."""
        params = types.ElicitRequestFormParams(
            message="Book a table?", requested_schema=BOOKING_SCHEMA
        )
        return await ask(ctx, params)

    @server.tool()
    async def share_key(ctx: Context) -> str | types.InputRequiredResult:
        """Ask for an API key in a form (a host must refuse)."""
        params = types.ElicitRequestFormParams(
            message="Your key, please", requested_schema=KEY_SCHEMA
        )
        return await ask(ctx, params)

    @server.tool()
    async def nested(ctx: Context) -> str | types.InputRequiredResult:
        """Ask with a nested object (outside what a form may ask)."""
        params = types.ElicitRequestFormParams(message="Where?", requested_schema=NESTED_SCHEMA)
        return await ask(ctx, params)

    @server.tool()
    async def visit(ctx: Context) -> str | types.InputRequiredResult:
        """Send the user to a page (URL mode)."""
        params = types.ElicitRequestURLParams(
            message="Sign in to Example",
            url="https://login.example.com/start?x=1",
            elicitation_id="e1",
        )
        return await ask(ctx, params)

    @server.tool()
    async def visit_file(ctx: Context) -> str | types.InputRequiredResult:
        """Send the user to a file: URL (a host must refuse)."""
        params = types.ElicitRequestURLParams(
            message="Open this", url="file:///etc/passwd", elicitation_id="e2"
        )
        return await ask(ctx, params)

    return server


if __name__ == "__main__":
    build().run()
