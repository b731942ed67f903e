"""An MCP server, built with the ``mcp`` SDK, that asks its client for completions and roots:

    python -m tests.helpers.sampling_server [--http PORT]

Tools:
- ``sample(params_json)``: sends ``sampling/createMessage`` with the given
  ``CreateMessageRequestParams`` (JSON, the spec's field names) through
  ``ctx.session.create_message`` and returns the client's result as JSON, or
  ``{"error": {"code", "message"}}`` when the client refused;
- ``roots()``: asks ``roots/list`` and returns the URIs as a JSON list;
- ``roots_changes()``: how many ``notifications/roots/list_changed`` it has heard.
"""

from __future__ import annotations

import argparse
import json
import warnings

import mcp.types as types
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError


def _stateless(ctx: Context) -> bool:
    """Whether the client speaks 2026-07-28, where a server asks inside its result."""
    return (ctx.protocol_version or "") >= "2026-07-28"


def build() -> MCPServer:
    server = MCPServer("sampling")
    heard = {"roots_changed": 0}

    @server.tool()
    async def sample(params_json: str, ctx: Context) -> str | types.InputRequiredResult:
        """Ask the client's model; the result (or the error) as JSON."""
        params = types.CreateMessageRequestParams.model_validate_json(params_json)
        if _stateless(ctx):  # 2026-07-28: ask inside the result, read the answer on the retry
            answer = (ctx.input_responses or {}).get("sample")
            if answer is None:
                request = types.CreateMessageRequest(params=params)
                return types.InputRequiredResult(input_requests={"sample": request})
            return str(answer.model_dump_json(by_alias=True, exclude_none=True))
        try:
            with warnings.catch_warnings():  # sampling is deprecated in 2026-07-28, still served
                warnings.simplefilter("ignore")
                result = await ctx.session.create_message(
                    params.messages,
                    max_tokens=params.max_tokens,
                    system_prompt=params.system_prompt,
                    include_context=params.include_context,
                    temperature=params.temperature,
                    stop_sequences=params.stop_sequences,
                    model_preferences=params.model_preferences,
                    tools=params.tools,
                    tool_choice=params.tool_choice,
                )
        except MCPError as error:
            return json.dumps({"error": {"code": error.code, "message": error.error.message}})
        return str(result.model_dump_json(by_alias=True, exclude_none=True))

    @server.tool()
    async def roots(ctx: Context) -> str | types.InputRequiredResult:
        """The client's roots, as a JSON list of URIs."""
        if _stateless(ctx):
            answer = (ctx.input_responses or {}).get("roots")
            if answer is None:
                return types.InputRequiredResult(input_requests={"roots": types.ListRootsRequest()})
            listed = types.ListRootsResult.model_validate(answer.model_dump())
        else:
            with warnings.catch_warnings():  # roots are deprecated in 2026-07-28, still served
                warnings.simplefilter("ignore")
                listed = await ctx.session.list_roots()
        return json.dumps([str(root.uri) for root in listed.roots])

    @server.tool()
    def roots_changes() -> int:
        """How many roots/list_changed notifications arrived."""
        return heard["roots_changed"]

    async def on_roots_changed(*_: object) -> None:
        heard["roots_changed"] += 1

    server._lowlevel_server.add_notification_handler(  # no MCPServer decorator for it
        "notifications/roots/list_changed", types.NotificationParams, on_roots_changed
    )
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, metavar="PORT")
    args = parser.parse_args()
    server = build()
    if args.http is not None:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()


if __name__ == "__main__":
    main()
