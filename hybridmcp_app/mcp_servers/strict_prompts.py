"""Prompt errors as the protocol names them: the SDK's ``MCPServer.get_prompt`` turns an unknown
prompt and bad arguments into a bare ``ValueError``, which goes out as JSON-RPC code 0 (with a
logged traceback); ``strict_prompts`` makes them ``INVALID_PARAMS`` (-32602) with a short reason.
``MCPServerBase`` applies it to every server its subclasses build.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import ValidationError

from hybridmcp_app.core.errors import describe_validation_error


def _validation_cause(error: BaseException) -> ValidationError | None:
    """The pydantic error behind ``error`` (the prompt function's argument check), if any."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ValidationError):
        cause = cause.__cause__
    return cause


def strict_prompts(server: MCPServer) -> MCPServer:
    """``server``, answering an unknown prompt, missing or unknown arguments and arguments its
    function refuses with ``INVALID_PARAMS``."""
    render = server.get_prompt
    if getattr(render, "strict", False):  # a subclass's build over its parent's
        return server

    async def get_prompt(name: str, arguments: dict[str, Any] | None = None,
                         context: Any = None) -> Any:  # fmt: skip
        prompt = next((p for p in await server.list_prompts() if p.name == name), None)
        if prompt is None:
            raise MCPError(INVALID_PARAMS, f"no prompt {name!r}")
        given = set(arguments or {})
        names = {argument.name for argument in prompt.arguments or ()}
        required = {argument.name for argument in prompt.arguments or () if argument.required}
        if missing := sorted(required - given):
            raise MCPError(INVALID_PARAMS, f"prompt {name!r} needs {', '.join(missing)}")
        if unknown := sorted(given - names):
            raise MCPError(INVALID_PARAMS, f"prompt {name!r} has no argument {', '.join(unknown)}")
        try:
            return await render(name, arguments, context)
        except ValueError as error:
            if (cause := _validation_cause(error)) is None:
                raise  # the prompt itself failed: the SDK's answer stands
            reasons = "; ".join(describe_validation_error(cause))
            message = f"bad arguments for prompt {name!r}: {reasons}"
            raise MCPError(INVALID_PARAMS, message) from None

    get_prompt.strict = True  # type: ignore[attr-defined]
    server.get_prompt = get_prompt  # type: ignore[method-assign]
    return server
