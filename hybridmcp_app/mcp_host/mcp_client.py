"""``MCPClient``: one connection to one MCP server, over the SDK's ``Client``.

Stdio servers run as subprocesses that the SDK starts and stops (close stdin, wait, then kill
the process tree); their stderr goes to a per-server log file. The transport is watched so
that a server that exits or drops the connection is noticed at once, not at the next call.

The SDK's ``Client`` is an async context manager built on anyio cancel scopes, which must be
entered and left in the same task: ``ServerSupervisor`` owns one task per connection and calls
``connect`` and ``cleanup`` from it; other tasks may call tools concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import anyio
import mcp.types as types
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.subscriptions import (
    ListenNotSupportedError,
    PromptsListChanged,
    ResourcesListChanged,
    SubscriptionLost,
    ToolsListChanged,
)
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.http_serving.streamable_http import streamable_http
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_items import (
    McpPrompt,
    McpPromptMessage,
    McpResource,
    McpResourceContent,
    McpResourceTemplate,
    McpTool,
    ToolCallOutcome,
)
from hybridmcp_app.mcp_host.sdk_items import (
    content_of,
    icons_of,
    messages_of,
    prompt_of,
    resource_of,
    template_of,
)
from hybridmcp_app.mcp_host.stdio_line_reader import use_line_reader

log = logging.getLogger("hybridmcp.mcp.client")
ServerConfig = StdioServerConfig | RemoteServerConfig


class McpConnectionError(HybridMCPError):
    """The server could not be reached, or the connection broke."""


class McpCallTimeout(McpConnectionError):
    """The server did not answer a request in time (it may hang)."""


class _WatchedReadStream:
    """The transport's read stream, passed through; reports when the server's side ends."""

    def __init__(self, inner: Any, on_closed: Callable[[], None]) -> None:
        self._inner = inner
        self._on_closed = on_closed
        self._reported = False

    def _closed(self) -> None:
        if not self._reported:
            self._reported = True
            self._on_closed()

    async def receive(self) -> Any:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._closed()
            raise

    def __aiter__(self) -> _WatchedReadStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedReadStream:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)


@asynccontextmanager
async def watched(transport: Any, on_closed: Callable[[], None]) -> AsyncIterator[tuple[Any, Any]]:
    """Wrap a transport so ``on_closed`` runs when the server's side of it ends."""
    async with transport as (read_stream, write_stream):
        yield _WatchedReadStream(read_stream, on_closed), write_stream


def tool_of(server: str, tool: types.Tool) -> McpTool:
    hints = tool.annotations
    return McpTool(
        server=server,
        name=tool.name,
        title=tool.title or (hints.title if hints else None),
        description=tool.description or "",
        input_schema=dict(tool.input_schema or {"type": "object"}),
        read_only=bool(hints and hints.read_only_hint),
        destructive=not (hints and hints.destructive_hint is False),
        idempotent=bool(hints and hints.idempotent_hint),
        icons=icons_of(tool.icons),
    )


def outcome_of(result: types.CallToolResult) -> ToolCallOutcome:
    """A tool result as text for a model: text parts joined, other parts described."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            parts.append(f"[{block.type} {block.mime_type}, {len(block.data)} base64 chars]")
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(text if text is not None else f"[resource {resource.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'content')}]")
    structured = result.structured_content
    if not parts and structured is not None:
        parts.append(str(structured))
    return ToolCallOutcome(
        text="\n".join(parts), is_error=bool(result.is_error), structured=structured
    )


class MCPClient:
    """Connects to one configured server; lists and calls what it offers."""

    def __init__(
        self,
        name: str,
        config: ServerConfig,
        *,
        stderr_log: Path | None = None,
        on_closed: Callable[[], None] = lambda: None,
        on_list_changed: Callable[[str], None] = lambda _kind: None,
        request_timeout_s: float = 60.0,
        connect_timeout_s: float | None = None,
        in_process: MCPServer | None = None,
        requests: HostRequests | None = None,
        mode: str = "auto",
    ) -> None:
        """``request_timeout_s``: each request's deadline, paused while the server's question is
        before the user; ``connect_timeout_s``: the handshake's (default: the same);
        ``mode``: the SDK's negotiation ("auto"; "legacy" forces the 2025 handshake)."""
        self.name = name
        self._requests = requests or HostRequests()  # what this server may ask of the host
        self.config = config
        self._in_process = in_process  # served in this process, in memory, instead
        self._stderr_log = stderr_log
        self._on_closed = on_closed
        self._on_list_changed = on_list_changed
        self._request_timeout_s = request_timeout_s
        self._connect_timeout_s = connect_timeout_s or request_timeout_s
        self._mode = mode
        self._deadlines: dict[asyncio.Timeout, float] = {}  # the requests in flight: their limits
        self._asking = 0  # the server's questions now before the user
        self._client: Client | None = None
        self._auth: Any = None  # a remote server's sign-in, which may say why it refused a call
        self._errlog: IO[str] | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _transport(self) -> Any:
        config = self.config
        if isinstance(config, StdioServerConfig):
            self._errlog = (
                self._stderr_log.open("a", encoding="utf-8", buffering=1)
                if self._stderr_log is not None
                else None
            )
            use_line_reader()  # long results (a storage part: megabytes) read in linear time
            parameters = StdioServerParameters(
                command=config.command,
                args=list(config.args),
                env=dict(config.env) or None,
                cwd=config.cwd,
            )
            if self._errlog is not None:
                return stdio_client(parameters, errlog=self._errlog)
            return stdio_client(parameters)
        url = str(config.url)
        sign_in = self._requests.auth
        auth = sign_in(self.name, config) if sign_in is not None else None  # OAuth, if asked
        self._auth = auth
        if config.transport == "sse":
            return sse_client(url, headers=dict(config.headers) or None, auth=auth)
        return streamable_http(url, dict(config.headers), auth=auth)

    async def _notified(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._on_list_changed("tools")
        elif isinstance(message, types.ResourceListChangedNotification):
            self._on_list_changed("resources")
        elif isinstance(message, types.PromptListChangedNotification):
            self._on_list_changed("prompts")
        elif isinstance(message, types.ElicitCompleteNotification):
            if self._requests.elicit_complete is not None:
                self._requests.elicit_complete(self.name, message.params.elicitation_id)
        elif isinstance(message, Exception):
            log.warning("%s: transport error: %s", self.name, message)

    def _callbacks(self) -> dict[str, Any]:
        """The SDK's callbacks for what the server may ask; the SDK advertises the matching
        client capability (elicitation, sampling, roots) only for those given."""
        requests, name = self._requests, self.name
        callbacks: dict[str, Any] = {}
        if (elicit := requests.elicit) is not None:

            async def elicitation(
                _context: ClientRequestContext, params: types.ElicitRequestParams
            ) -> types.ElicitResult | types.ErrorData:
                with self._waiting_on_the_user():
                    return await elicit(name, params)

            callbacks["elicitation_callback"] = elicitation
        if (sample := requests.sample) is not None:

            async def sampling(
                _context: ClientRequestContext, params: types.CreateMessageRequestParams
            ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
                with self._waiting_on_the_user():  # the user approves; a model answers
                    return await sample(name, params)

            callbacks["sampling_callback"] = sampling
            # Sampling requests may carry tools (2025-11-25): the sampler answers them.
            callbacks["sampling_capabilities"] = types.SamplingCapability(
                tools=types.SamplingToolsCapability()
            )
        if (roots := requests.roots) is not None:

            async def list_roots(_context: ClientRequestContext) -> types.ListRootsResult:
                return types.ListRootsResult(roots=await roots(name))

            callbacks["list_roots_callback"] = list_roots
        return callbacks

    async def connect(self) -> None:
        """Start (stdio) or reach (remote) the server and initialise the session."""
        client = Client(
            self._in_process  # the SDK connects to a server object in memory
            if self._in_process is not None
            else watched(self._transport(), self._on_closed),
            message_handler=self._notified,
            # No SDK read timeout: ``_request`` keeps each deadline, paused while the user
            # answers the server (the SDK's own clock would run on through a 2025 dialog).
            read_timeout_seconds=None,
            client_info=types.Implementation(name="HybridMCP", version="0.1"),
            mode=self._mode,
            **self._callbacks(),
        )
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await client.__aenter__()
        except BaseException as error:
            self._close_errlog()
            if isinstance(error, TimeoutError):
                raise McpCallTimeout(
                    f"{self.name} did not answer the handshake within {self._connect_timeout_s:g} s"
                ) from None
            raise
        self._client = client

    async def cleanup(self) -> None:
        """Close the session; a stdio server is stopped and its process tree ended."""
        client, self._client = self._client, None
        try:
            if client is not None:
                await client.__aexit__(None, None, None)
        finally:
            self._close_errlog()

    def _close_errlog(self) -> None:
        if self._errlog is not None:
            self._errlog.close()
            self._errlog = None

    def _live(self) -> Client:
        if self._client is None:
            raise McpConnectionError(f"{self.name} is not connected")
        return self._client

    @contextmanager
    def _waiting_on_the_user(self) -> Iterator[None]:
        """While the server's question is before the user, no request of this connection runs
        out of time (a server is not 'hung' because the user is reading a dialog)."""
        self._asking += 1
        for deadline in self._deadlines:
            deadline.reschedule(None)
        try:
            yield
        finally:
            self._asking -= 1
            if not self._asking:
                now = asyncio.get_running_loop().time()
                for deadline, limit in self._deadlines.items():
                    deadline.reschedule(now + limit)

    async def _request(self, call: Any, timeout_s: float | None = None) -> Any:
        limit = timeout_s or self._request_timeout_s
        try:
            async with asyncio.timeout(None if self._asking else limit) as deadline:
                self._deadlines[deadline] = limit
                try:
                    return await call
                finally:
                    del self._deadlines[deadline]
        except TimeoutError:
            raise McpCallTimeout(
                f"{self.name} did not answer within {timeout_s or self._request_timeout_s:g} s"
            ) from None
        except MCPError as error:
            take = getattr(self._auth, "take_refusal", None)
            refusal = take() if callable(take) else None
            if refusal is not None:  # the server refused the sign-in (more scopes, say): why
                raise McpConnectionError(f"{self.name}: {refusal}") from refusal
            raise McpConnectionError(f"{self.name}: {error}") from error

    async def list_tools(self) -> list[McpTool]:
        result = await self._request(self._live().list_tools())
        return [tool_of(self.name, tool) for tool in result.tools]

    async def call_tool(
        self, tool: str, arguments: dict[str, Any], *, timeout_s: float | None = None
    ) -> ToolCallOutcome:
        result = await self._request(self._live().call_tool(tool, arguments), timeout_s)
        return outcome_of(result)

    async def list_resources(self) -> list[McpResource]:
        result = await self._request(self._live().list_resources())
        return [resource_of(self.name, item) for item in result.resources]

    async def list_resource_templates(self) -> list[McpResourceTemplate]:
        """The server's resource templates (none when it offers no resources)."""
        capabilities = self.capabilities
        if capabilities is not None and capabilities.resources is None:
            return []
        result = await self._request(self._live().list_resource_templates())
        return [template_of(self.name, item) for item in result.resource_templates]

    async def read_resource_contents(self, uri: str) -> list[McpResourceContent]:
        """A resource's parts as the server sent them: text, or base64 ``blob``."""
        result = await self._request(self._live().read_resource(uri))
        return [content_of(item) for item in result.contents]

    async def complete(
        self,
        ref: str,
        argument: str,
        value: str,
        given: dict[str, str] | None = None,
        *,
        prompt: bool = False,
    ) -> list[str]:
        """``completion/complete`` for one argument of a resource template (``ref``: its URI
        template) or of a prompt (``prompt``; ``ref``: its name); [] when the server offers no
        completion."""
        capabilities = self.capabilities
        if capabilities is None or capabilities.completions is None:
            return []
        reference: types.PromptReference | types.ResourceTemplateReference = (
            types.PromptReference(type="ref/prompt", name=ref)
            if prompt
            else types.ResourceTemplateReference(type="ref/resource", uri=ref)
        )
        result = await self._request(
            self._live().complete(reference, {"name": argument, "value": value}, given or None)
        )
        return list(result.completion.values)

    async def read_resource(self, uri: str) -> str:
        result = await self._request(self._live().read_resource(uri))
        texts = [getattr(item, "text", None) for item in result.contents]
        return "\n".join(text for text in texts if text is not None)

    async def list_prompts(self) -> list[McpPrompt]:
        result = await self._request(self._live().list_prompts())
        return [prompt_of(self.name, item) for item in result.prompts]

    async def get_prompt_messages(
        self, name: str, arguments: dict[str, str]
    ) -> list[McpPromptMessage]:
        """The prompt filled in: its messages as text, embedded text resources included."""
        result = await self._request(self._live().get_prompt(name, arguments))
        return messages_of(result)

    async def get_prompt(self, name: str, arguments: dict[str, str]) -> str:
        result = await self._request(self._live().get_prompt(name, arguments))
        texts = [getattr(message.content, "text", "") for message in result.messages]
        return "\n\n".join(text for text in texts if text)

    async def follow_changes(self) -> None:
        """Until cancelled: report list changes of a 2026-07-28 server (``subscriptions/listen``).

        Older servers send ``list_changed`` notifications instead (``message_handler``); for
        them this returns at once. Run it in its own task and cancel it before ``cleanup``.
        """
        capabilities = self.capabilities
        tools = bool(capabilities and capabilities.tools)
        prompts = bool(capabilities and capabilities.prompts)
        resources = bool(capabilities and capabilities.resources)
        if not (tools or prompts or resources):
            return
        kinds = {ToolsListChanged: "tools", PromptsListChanged: "prompts",
                 ResourcesListChanged: "resources"}  # fmt: skip
        try:
            async with self._live().listen(
                tools_list_changed=tools,
                prompts_list_changed=prompts,
                resources_list_changed=resources,
            ) as subscription:
                async for event in subscription:
                    kind = kinds.get(type(event))
                    if kind is not None:
                        self._on_list_changed(kind)
        except ListenNotSupportedError:
            return
        except (SubscriptionLost, MCPError, McpConnectionError) as error:
            log.info("%s: change subscription ended: %s", self.name, error)

    async def roots_changed(self) -> None:
        """Tell the server its roots changed (``notifications/roots/list_changed``) in a 2025
        session; a 2026-07-28 stateless connection has no channel for it: nothing is sent."""
        client = self._live()
        if self.stateless or self._requests.roots is None:
            return
        with warnings.catch_warnings():  # roots are deprecated in 2026-07-28, not in 2025
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await self._request(client.send_roots_list_changed())

    async def ping(self, timeout_s: float) -> None:
        """Check the server answers: ``ping`` in a 2025 session; a 2026-07-28 server has no
        ``ping``, and answers ``server/discover`` instead."""
        client = self._live()
        if self.stateless:
            version = client.protocol_version
            await self._request(client.session.send_discover(version), timeout_s)
        else:
            await self._request(client.session.send_ping(), timeout_s)

    @property
    def capabilities(self) -> types.ServerCapabilities | None:
        return self._client.server_capabilities if self._client is not None else None

    @property
    def protocol_version(self) -> str | None:
        """The revision negotiated at ``connect`` (None before): a 2025 one after the
        ``initialize`` handshake, or 2026-07-28 after ``server/discover``."""
        return self._client.protocol_version if self._client is not None else None

    @property
    def stateless(self) -> bool:
        """Whether the connection is in the 2026 era: no session, ``_meta`` on every request."""
        return self.protocol_version in MODERN_PROTOCOL_VERSIONS
