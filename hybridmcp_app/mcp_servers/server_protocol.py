"""The protocol every one of our servers speaks beyond its own tools, resources and prompts.

``MCPServerBase`` applies ``serve_protocol`` to each server its subclasses build (the one place),
after ``strict_prompts``. The SDK (mcp 2.3.0) serves both eras itself (the 2025 handshake and
sessions; the 2026-07-28 stateless wire with ``server/discover``, ``subscriptions/listen`` and
the ``serverInfo`` stamp in each result's ``_meta``); ``MCPServer`` leaves out what is added here:

- ``serverInfo.version``: the app's version (the SDK sends ``""`` unless told).
- ``logging/setLevel`` (2025 wire): accepted, as the spec requires of a server declaring
  ``logging``. Our servers send no log notifications, so no level has anything to filter.
- ``resources/subscribe`` and ``resources/unsubscribe`` (2025 wire): a connection's subscribed
  URIs. A server tells of a changed resource with ``ctx.notify_resource_updated(uri)``, which
  reaches the 2026 ``subscriptions/listen`` streams through the SDK's bus; the same bus event is
  sent here as ``notifications/resources/updated`` to each 2025 connection subscribed to that
  URI. Any URI is accepted, as the SDK's listen streams accept one: an unknown one never fires.
- ``completion/complete``, for a server with something to complete (a ``Completer``): the
  reference and argument are checked against the server's prompts and resource templates first,
  so an unknown prompt, template or argument gets ``INVALID_PARAMS``.
- Errors as each revision names them: an unknown resource is ``RESOURCE_NOT_FOUND`` (-32002) on
  the 2025 wire and ``INVALID_PARAMS`` on the 2026 one (SEP-2164; the SDK sends -32602 on both);
  on the 2026 wire, ``inputResponses`` that are not an object get ``INVALID_PARAMS`` instead of
  being read as absent (the SDK accepts a ``null``).

``MCPServer`` has no public way to add a request handler or reach its bus, so
``_lowlevel_server`` and ``_subscriptions`` are read here, and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated, ServerEvent
from mcp.shared.uri_template import UriTemplate
from mcp.types import (
    INVALID_PARAMS,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    EmptyResult,
    PromptReference,
    ResourceTemplateReference,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

log = logging.getLogger("hybridmcp.mcp.servers")

RESOURCE_NOT_FOUND = -32002  # 2025-11-25 and before; retired by 2026-07-28
MAX_COMPLETIONS = 100  # the spec's cap on the values of one completion
# The requests of the 2026 wire that may carry ``inputResponses`` (SEP-2322).
INPUT_METHODS = frozenset({"tools/call", "prompts/get", "resources/read"})

Reference = PromptReference | ResourceTemplateReference
Completer = Callable[[Reference, str, str, Mapping[str, str]], Awaitable[Sequence[str]]]
"""``(reference, argument, value typed so far, arguments already given)`` → the values, best
first."""


def serve_protocol(server: MCPServer, version: str, completer: Completer | None) -> MCPServer:
    """``server``, with the version, logging, subscriptions, completion and input checks (once:
    a server built by a subclass's ``build`` over its parent's is served as it is)."""
    if _protocol_errors in server.middleware:
        return server
    lowlevel = server._lowlevel_server  # no public way: see the module's note
    lowlevel.version = version
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, _set_level)
    subscriptions = ResourceSubscriptions()
    server._subscriptions.subscribe(subscriptions.deliver)
    lowlevel.add_request_handler(
        "resources/subscribe", SubscribeRequestParams, subscriptions.subscribe
    )
    lowlevel.add_request_handler(
        "resources/unsubscribe", UnsubscribeRequestParams, subscriptions.unsubscribe
    )
    if completer is not None:
        lowlevel.add_request_handler(
            "completion/complete", CompleteRequestParams, _completion(server, completer)
        )
    server.middleware.append(_protocol_errors)
    return server


async def _set_level(ctx: ServerRequestContext[Any], params: SetLevelRequestParams) -> EmptyResult:
    """Accept the client's level (the SDK has checked it is one of the spec's)."""
    return EmptyResult()


class ResourceSubscriptions:
    """The URIs each 2025 connection subscribed to, and the updates sent to them."""

    def __init__(self) -> None:
        # A connection that ends is forgotten with it.
        self._uris: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
        self._sending: set[asyncio.Task[None]] = set()

    async def subscribe(
        self, ctx: ServerRequestContext[Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        self._uris.setdefault(_connection(ctx), set()).add(params.uri)
        return EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        self._uris.get(_connection(ctx), set()).discard(params.uri)
        return EmptyResult()

    def deliver(self, event: ServerEvent) -> None:
        """The bus's listener: a changed resource, sent to the connections subscribed to it."""
        if not isinstance(event, ResourceUpdated):
            return
        for connection, uris in list(self._uris.items()):
            if event.uri in uris:
                self._spawn(_send_updated(connection, event.uri))

    def _spawn(self, send: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(send)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)


def _connection(ctx: ServerRequestContext[Any]) -> Any:
    """The connection behind a request (the SDK hands a handler a per-request session)."""
    return ctx.session._connection


async def _send_updated(connection: Any, uri: str) -> None:
    try:
        await connection.send_resource_updated(uri)
    except Exception as error:  # a connection gone meanwhile: nothing to tell
        log.debug("resource update for %s not sent: %s", uri, error)


def _completion(
    server: MCPServer, completer: Completer
) -> Callable[[ServerRequestContext[Any], CompleteRequestParams], Awaitable[CompleteResult]]:
    async def complete(
        ctx: ServerRequestContext[Any], params: CompleteRequestParams
    ) -> CompleteResult:
        argument = params.argument.name
        if argument not in await _argument_names(server, params.ref):
            raise MCPError(INVALID_PARAMS, f"{_describe(params.ref)} has no argument {argument!r}")
        given = dict(params.context.arguments or {}) if params.context is not None else {}
        values = list(await completer(params.ref, argument, params.argument.value, given))
        return CompleteResult(
            completion=Completion(
                values=values[:MAX_COMPLETIONS],
                total=len(values),
                has_more=len(values) > MAX_COMPLETIONS,
            )
        )

    return complete


async def _argument_names(server: MCPServer, ref: Reference) -> list[str]:
    """The arguments ``ref`` takes; ``INVALID_PARAMS`` when the server has no such thing."""
    if isinstance(ref, PromptReference):
        for prompt in await server.list_prompts():
            if prompt.name == ref.name:
                return [argument.name for argument in prompt.arguments or ()]
    else:
        for template in await server.list_resource_templates():
            if template.uri_template == ref.uri:
                return UriTemplate.parse(template.uri_template).variable_names
    raise MCPError(INVALID_PARAMS, f"no {_describe(ref)}")


def _describe(ref: Reference) -> str:
    if isinstance(ref, PromptReference):
        return f"prompt {ref.name!r}"
    return f"resource template {ref.uri!r}"


async def _protocol_errors(ctx: ServerRequestContext[Any], call_next: CallNext) -> HandlerResult:
    """The error codes of the revision spoken (see the module's note)."""
    modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
    if (
        modern
        and ctx.method in INPUT_METHODS
        and ctx.params is not None
        and "inputResponses" in ctx.params
        and not isinstance(ctx.params["inputResponses"], Mapping)
    ):
        raise MCPError(INVALID_PARAMS, "inputResponses must be an object of responses")
    try:
        return await call_next(ctx)
    except MCPError as error:
        # The SDK's unknown resource: INVALID_PARAMS with the URI as its data.
        unknown_resource = (
            ctx.method == "resources/read"
            and error.code == INVALID_PARAMS
            and isinstance(error.data, Mapping)
            and "uri" in error.data
        )
        if modern or not unknown_resource:
            raise
        raise MCPError(RESOURCE_NOT_FOUND, error.message, error.data) from None
