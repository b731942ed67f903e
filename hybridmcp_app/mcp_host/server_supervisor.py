"""``ServerSupervisor``: keeps one MCP server running — start, stop, restart, crash detection,
automatic restarts with exponential backoff, crash loops, hangs — and says where it is.

One task per supervisor owns the connection (the SDK's client must be entered and left in one
task). It waits for one of: stop asked, the server's side closed (exit, kill -9), a request timed
out or a ping went unanswered (a hung server: killed through the SDK's shutdown, which ends the
process tree), then restarts after a growing delay unless it is a crash loop.

The delay is waited for real (0.5, 1, 2, 4 s… as the status says) and only a stop cuts it
short, so ``crash_loop_count`` failures take at least the sum of those delays on the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.log_tail import read_tail
from hybridmcp_app.mcp_host.mcp_client import (
    McpCallTimeout,
    MCPClient,
    McpConnectionError,
    ServerConfig,
)
from hybridmcp_app.mcp_host.mcp_items import ToolCallOutcome
from hybridmcp_app.mcp_host.oauth_state import SignInRequired
from hybridmcp_app.mcp_host.server_status import RestartPolicy, ServerState, ServerStatus

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger("hybridmcp.mcp.supervisor")
StatusListener = Callable[[ServerStatus], None]
LOG_ROTATE_BYTES = 512 * 1024


def describe_failure(error: BaseException) -> str:
    """A one-line reason, with anyio's exception groups unwrapped to their first cause."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, FileNotFoundError):
        return f"command not found: {error.filename or error}"
    if isinstance(error, PermissionError):
        return f"command not executable: {error.filename or error}"
    if isinstance(error, TimeoutError):
        return "no answer to initialize in time"
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:300]


def _fatal(error: BaseException) -> bool:
    """Errors a restart cannot fix (the command itself is wrong, or only the user can sign in)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return isinstance(
        error, FileNotFoundError | PermissionError | NotADirectoryError | SignInRequired
    )


def _loop_stopped(error: BaseException) -> bool:
    """The event loop had stopped when this task's step ran: while the app closes, Qt may run
    a pending step (qasync) after ``run_until_complete`` returned."""
    return isinstance(error, RuntimeError) and str(error) == "no running event loop"


class ServerSupervisor:
    """Runs one server; ``prepare`` gives its config at each start (references resolved then)."""

    def __init__(
        self,
        name: str,
        prepare: Callable[[], ServerConfig],
        log_path: Path,
        policy: RestartPolicy | None = None,
        in_process: Callable[[ServerConfig], MCPServer | None] = lambda _config: None,
        requests: HostRequests | None = None,
    ) -> None:
        self.name = name
        self._requests = requests  # what the server may ask of the host (elicit, sample, roots)
        self._prepare = prepare
        self._in_process = in_process  # a server object to talk to in memory, for this config
        self.log_path = log_path
        self.policy = policy or RestartPolicy()
        self._status = ServerStatus(name)
        self._listeners: list[StatusListener] = []
        self._task: asyncio.Task[None] | None = None
        self._client: MCPClient | None = None
        self._wake = asyncio.Event()  # this connection should end (set again by each end)
        self._stop_asked = asyncio.Event()  # supervision should end: cuts a backoff short
        self._end_reason = ""
        self._stopping = False

    # ------------------------------------------------------------------ status
    @property
    def status(self) -> ServerStatus:
        return self._status

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def _set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)
        for listener in list(self._listeners):
            try:
                listener(self._status)
            except Exception:  # a listener's bug must not stop supervision
                log.exception("status listener failed for %s", self.name)

    # ------------------------------------------------------------------ commands
    def start(self) -> None:
        """Start supervising (returns at once; the status says how it goes)."""
        if self.running:
            return
        self._stopping = False
        self._stop_asked.clear()
        self._set(state=ServerState.STARTING, message="starting", restarts=0)
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"mcp-server-{self.name}"
        )

    async def stop(self) -> None:
        """Stop the server (stdio: stdin closed, then the process tree ended) and wait."""
        task = self._task
        if task is None or task.done():
            self._set(state=ServerState.STOPPED, message="stopped", ready_since=None)
            return
        self._stopping = True
        self._stop_asked.set()
        self._end("stop")
        if self._client is None:  # still connecting or waiting to restart: interrupt it
            task.cancel()
        try:
            async with asyncio.timeout(self.policy.stop_timeout_s + 5):
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(task)
        except TimeoutError:
            log.error("%s did not stop in time", self.name)
            task.cancel()

    async def restart(self) -> None:
        await self.stop()
        self.start()

    def _end(self, reason: str) -> None:
        if not self._end_reason:
            self._end_reason = reason
        self._wake.set()

    # ------------------------------------------------------------------ calls
    async def call_tool(self, tool: str, arguments: dict[str, Any]) -> ToolCallOutcome:
        client = self._client
        if client is None or self._status.state is not ServerState.READY:
            return ToolCallOutcome(
                text=f"server {self.name} is not ready ({self._status.state.value})",
                is_error=True,
            )
        try:
            return await client.call_tool(tool, arguments)
        except McpCallTimeout as error:
            self._end(f"hung: {error}")
            return ToolCallOutcome(text=f"{error}; restarting the server", is_error=True)
        except McpConnectionError as error:
            return ToolCallOutcome(text=str(error), is_error=True)

    @property
    def client(self) -> MCPClient | None:
        """The live connection while ready (resources, prompts)."""
        return self._client if self._status.state is ServerState.READY else None

    # ------------------------------------------------------------------ the task
    async def _run(self) -> None:
        failures: deque[float] = deque()
        try:
            while not self._stopping:
                failure, fatal = await self._one_connection()
                if self._stopping or failure is None:
                    break
                now = time.monotonic()
                failures.append(now)
                while failures and now - failures[0] > self.policy.crash_loop_window_s:
                    failures.popleft()
                tail = await asyncio.to_thread(read_tail, self.log_path)
                if fatal or len(failures) >= self.policy.crash_loop_count:
                    why = failure if fatal else f"crash loop ({len(failures)} failures): {failure}"
                    log.error("%s failed: %s", self.name, why)
                    self._set(state=ServerState.FAILED, message=why, ready_since=None,
                              stderr_tail=tail)  # fmt: skip
                    return
                delay = self.policy.delay(len(failures))
                log.warning("%s: %s; restarting in %.1f s", self.name, failure, delay)
                self._set(
                    state=ServerState.RESTARTING, ready_since=None, stderr_tail=tail,
                    message=f"{failure}; restarting in {delay:.1f} s",
                    restarts=self._status.restarts + 1,
                )  # fmt: skip
                await self._backoff(delay)
            self._set(state=ServerState.STOPPED, message="stopped", ready_since=None)
        except asyncio.CancelledError:
            if not self._stopping:
                log.warning("%s: supervision cancelled from outside", self.name)
            self._set(state=ServerState.STOPPED, message="stopped", ready_since=None)
            raise
        except Exception as error:  # a bug must leave a visible state, not a dead task
            if _loop_stopped(error):  # the app closes: Qt ran this step after the loop ended
                log.warning("%s: ended as the app closed (%s)", self.name, error)
                self._set(state=ServerState.STOPPED, message="stopped", ready_since=None)
                return
            log.exception("%s: supervision failed", self.name)
            self._set(state=ServerState.FAILED, message=f"supervision failed: {error}",
                      ready_since=None)  # fmt: skip

    async def _backoff(self, delay: float) -> None:
        """Wait ``delay`` seconds before the next start, unless a stop comes first.

        Not ``_wake``: the failed connection's own end (``on_closed``) may have set it already,
        which made every restart follow at once and a crash loop end in a fraction of a second.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stop_asked.wait()

    async def _one_connection(self) -> tuple[str | None, bool]:
        """Connect, serve until the end; (None, _) for a clean stop, else (why, fatal)."""
        self._wake.clear()
        self._end_reason = ""
        if self._status.state is not ServerState.STARTING:
            self._set(state=ServerState.STARTING, message="starting")
        try:
            config = self._prepare()
        except Exception as error:  # unresolved secret reference, bad config
            return describe_failure(error), True
        await asyncio.to_thread(self._rotate_log)
        client = MCPClient(
            self.name, config, stderr_log=self.log_path,
            on_closed=lambda: self._end("the server closed the connection (exited?)"),
            on_list_changed=self._list_changed,
            request_timeout_s=self.policy.request_timeout_s,
            in_process=self._in_process(config), requests=self._requests,
        )  # fmt: skip
        try:
            async with asyncio.timeout(self.policy.connect_timeout_s):
                await client.connect()
                lists = await self._lists(client)
        except Exception as error:
            await self._cleanup(client)
            if isinstance(error, TimeoutError):
                return f"no answer within {self.policy.connect_timeout_s:g} s (hung?)", False
            return describe_failure(error), _fatal(error)
        self._client = client
        self._set(state=ServerState.READY, message="ready", ready_since=time.time(), **lists)
        log.info("%s ready: %d tool(s)", self.name, len(lists["tools"]))
        loop = asyncio.get_running_loop()
        helpers = [loop.create_task(self._ping(client)), loop.create_task(client.follow_changes())]
        reason = ""
        try:
            await self._wake.wait()
            reason = self._end_reason
        except asyncio.CancelledError:
            if self._stopping:
                raise
            # Not ours: a task inside the SDK's session failed, and its task group cancelled
            # the task that had entered it (this one). A broken connection: restart.
            reason = "the connection failed inside the MCP client"
        finally:
            self._client = None
            await self._cleanup(client)  # first: leaving the SDK's scopes ends its cancelling
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
        return (None, False) if reason == "stop" else (reason, False)

    async def _cleanup(self, client: MCPClient) -> None:
        try:
            async with asyncio.timeout(self.policy.stop_timeout_s):
                await client.cleanup()  # in this task: the SDK enters and leaves here
        except Exception as error:
            log.warning("%s: cleanup: %s", self.name, describe_failure(error))

    async def _lists(self, client: MCPClient) -> dict[str, Any]:
        capabilities = client.capabilities
        lists: dict[str, Any] = {"tools": (), "resources": (), "prompts": ()}
        if capabilities is None or capabilities.tools is not None:
            lists["tools"] = tuple(await client.list_tools())
        if capabilities is not None and capabilities.resources is not None:
            lists["resources"] = tuple(await client.list_resources())
        if capabilities is not None and capabilities.prompts is not None:
            lists["prompts"] = tuple(await client.list_prompts())
        return lists

    def _list_changed(self, kind: str) -> None:
        client = self._client
        if client is not None:
            asyncio.get_running_loop().create_task(self._relist(client, kind))

    async def _relist(self, client: MCPClient, kind: str) -> None:
        try:
            if kind == "tools":
                self._set(tools=tuple(await client.list_tools()))
            elif kind == "resources":
                self._set(resources=tuple(await client.list_resources()))
            elif kind == "prompts":
                self._set(prompts=tuple(await client.list_prompts()))
        except McpConnectionError as error:
            log.warning("%s: could not refresh %s: %s", self.name, kind, error)

    async def _ping(self, client: MCPClient) -> None:
        while True:
            await asyncio.sleep(self.policy.ping_interval_s)
            try:
                await client.ping(timeout_s=min(10.0, self.policy.request_timeout_s))
            except McpCallTimeout:
                self._end("hung: no answer to ping")
                return
            except McpConnectionError:
                return  # the transport watch reports a closed connection

    def _rotate_log(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if self.log_path.stat().st_size > LOG_ROTATE_BYTES:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))
        except FileNotFoundError:
            pass
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n")
