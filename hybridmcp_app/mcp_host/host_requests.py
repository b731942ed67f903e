"""What MCP servers may ask of the host: the handlers the host plugs into every connection."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx2
import mcp.types as types

from hybridmcp_app.config.mcp_config import RemoteServerConfig

# The first argument of each handler is the server's name (as in mcp.json). A handler may answer
# with ``ErrorData`` (the SDK's callbacks may): the server then gets that JSON-RPC error.
ElicitHandler = Callable[
    [str, types.ElicitRequestParams], Awaitable[types.ElicitResult | types.ErrorData]
]
SampleHandler = Callable[
    [str, types.CreateMessageRequestParams],
    Awaitable[types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData],
]
RootsHandler = Callable[[str], Awaitable[list[types.Root]]]
# A URL-mode elicitation finished out of band (``notifications/elicitation/complete``): server,
# elicitation id.
ElicitCompleteHandler = Callable[[str, str], None]
# How the host signs in to a remote server (OAuth): server, its configuration -> the HTTP auth of
# its connection, or None for none (``oauth_sign_in.SignIns``).
AuthFor = Callable[[str, RemoteServerConfig], httpx2.Auth | None]


@dataclass(frozen=True)
class HostRequests:
    """None = the host does not offer that capability (the SDK then answers 'not supported')."""

    elicit: ElicitHandler | None = None
    sample: SampleHandler | None = None
    roots: RootsHandler | None = None
    elicit_complete: ElicitCompleteHandler | None = None
    auth: AuthFor | None = None
