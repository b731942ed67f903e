"""Reading tool results in the tests of our MCP servers."""

from __future__ import annotations

from typing import Any

import mcp.types as types


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def assert_refused(result: types.CallToolResult, fragment: str) -> None:
    """A tool error whose message holds ``fragment``, and no traceback."""
    message = text_of(result)
    assert result.is_error, message
    assert fragment in message
    assert "Traceback" not in message and 'File "' not in message


def structured_of(result: types.CallToolResult) -> dict[str, Any]:
    """A successful result's structured content (a failure's message when it is not one)."""
    assert not result.is_error, text_of(result)
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content
