"""``McpHost``: the app's MCP servers — one supervisor per configured server, the enabled ones
started in parallel, the registry of what they offer, switches that persist, clean shutdown.

Nothing here blocks the event loop: the config is read and the login shell asked off the loop,
and starting a server returns at once (its status reports progress).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.config.mcp_json_file import McpFileContents, McpJsonFile
from hybridmcp_app.mcp_host.builtin_servers import (
    InProcessServers,
    builtin_module,
    builtin_server_environment,
    with_running_python,
)
from hybridmcp_app.mcp_host.change_notice import ChangeNotice
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.login_path import login_shell_path, resolve_command
from hybridmcp_app.mcp_host.mcp_client import ServerConfig
from hybridmcp_app.mcp_host.mcp_registry import McpRegistry
from hybridmcp_app.mcp_host.server_status import RestartPolicy, ServerState
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger("hybridmcp.mcp.host")


Resolver = Callable[[str, ServerConfig], ServerConfig]  # ${secret:…}/${env:…} → values


class McpHost:
    """Owns the supervisors; the UI and the tool loop use ``registry`` and the commands here."""

    def __init__(
        self,
        source: McpJsonFile,
        log_dir: Path,
        *,
        resolve: Resolver = lambda _name, config: config,
        policy: RestartPolicy | None = None,
        environ: Mapping[str, str] | None = None,
        in_process: InProcessServers | None = None,
        requests: HostRequests | None = None,
    ) -> None:
        self.source = source
        self.requests = requests or HostRequests()  # what every server may ask of the host
        self._in_process = dict(in_process or {})  # the project's servers the app runs itself
        self._log_dir = log_dir
        self._resolve = resolve
        self._policy = policy or RestartPolicy()
        self._environ = dict(os.environ if environ is None else environ)
        self._path: str | None = None
        self.supervisors: dict[str, ServerSupervisor] = {}
        self.configured = McpFileContents()
        self.registry = McpRegistry(tool_enabled=source.tool_enabled)
        self._notice = ChangeNotice(log)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """``listener`` runs when the set of servers or the config problems change (once per
        event-loop turn)."""
        self._notice.subscribe(listener)

    def _changed(self) -> None:
        self._notice.changed()

    def enabled(self, name: str) -> bool:
        config = self.configured.servers.get(name)
        return config is not None and not config.disabled

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Read the config and start every enabled server (in parallel; returns at once).

        Never raises: a host that cannot start lists why as its problem (the MCP tab shows it)
        and the app's other services go on."""
        try:
            if self._path is None:
                self._path = await asyncio.to_thread(login_shell_path, self._environ)
            await self.reload()
        except Exception as error:  # a bug here must not take the app's other services down
            log.exception("the MCP host could not start")
            self.configured = McpFileContents(problems=(f"the MCP host could not start: {error}",))
            self._changed()

    async def reload(self) -> None:
        """Re-read the config: stop removed or changed servers, start new and enabled ones."""
        configured = await asyncio.to_thread(self.source.read)
        previous = self.configured.servers
        self.configured = configured
        for problem in configured.problems:
            log.warning("mcp.json: %s", problem)
        stale = [
            name
            for name in self.supervisors
            if name not in configured.servers or configured.servers[name] != previous.get(name)
        ]
        await asyncio.gather(*(self._drop(name) for name in stale))
        for name, config in configured.servers.items():
            if name not in self.supervisors:
                self._add(name)
            if not config.disabled:
                self.supervisors[name].start()
            elif self.supervisors[name].running:
                await self.supervisors[name].stop()
        self._changed()

    async def start_only(self, name: str) -> ServerSupervisor:
        """Read the config and start only ``name`` (the command line's one-server commands);
        KeyError when ``mcp.json`` has no such server. The caller checks ``enabled``."""
        if self._path is None:
            self._path = await asyncio.to_thread(login_shell_path, self._environ)
        self.configured = await asyncio.to_thread(self.source.read)
        if name not in self.configured.servers:
            raise KeyError(name)
        supervisor = self.supervisors.get(name) or self._add(name)
        supervisor.start()
        self._changed()
        return supervisor

    def runs_in_process(self, name: str) -> bool:
        """Whether the app serves this configured server itself (no subprocess)."""
        config = self.configured.servers.get(name)
        return config is not None and builtin_module(config) in self._in_process

    def _server_object(self, config: ServerConfig) -> MCPServer | None:
        """The server to run in this process for ``config``, if it starts one of ours that
        the app serves itself (``builtin_servers``)."""
        build = self._in_process.get(builtin_module(config) or "")
        return build() if build is not None else None

    def _add(self, name: str) -> ServerSupervisor:
        supervisor = ServerSupervisor(
            name,
            lambda: self._prepare(name),
            self._log_dir / f"{name}.log",
            self._policy,
            in_process=self._server_object,
            requests=self.requests,
        )
        self.supervisors[name] = supervisor
        self.registry.attach(supervisor)
        return supervisor

    async def _drop(self, name: str) -> None:
        supervisor = self.supervisors.pop(name)
        self.registry.detach(name)
        await supervisor.stop()

    def _prepare(self, name: str) -> ServerConfig:
        """The config a start uses: references resolved, the command found on the login PATH
        (or, for one of the project's servers whose interpreter is gone, the running one), and
        for one of the project's servers what it needs to find the app's settings."""
        config = with_running_python(self._resolve(name, self.configured.servers[name]))
        if isinstance(config, StdioServerConfig) and builtin_module(config) is not None:
            # The entry's own values win; the SDK adds only HOME, PATH, SHELL, TERM, USER…
            env = {**builtin_server_environment(self._environ), **config.env}
            config = config.model_copy(update={"env": env})
        if isinstance(config, StdioServerConfig) and self._path is not None:
            env = dict(config.env)
            env.setdefault("PATH", self._path)
            config = config.model_copy(
                update={"command": resolve_command(config.command, env["PATH"]), "env": env}
            )
        return config

    async def set_enabled(self, name: str, enabled: bool) -> None:
        """The server's switch: persisted first, then the server started or stopped."""
        await asyncio.to_thread(self.source.set_server_enabled, name, enabled)
        self.configured = self.source.contents  # the edit read the file back
        supervisor = self.supervisors.get(name) or self._add(name)
        if enabled:
            supervisor.start()
        else:
            await supervisor.stop()
        self._changed()

    async def restart(self, name: str) -> None:
        await self.supervisors[name].restart()

    async def shutdown(self) -> list[str]:
        """Stop every server (each ends its process tree); returns those still running."""
        await asyncio.gather(*(s.stop() for s in self.supervisors.values()))
        return [name for name, s in self.supervisors.items() if s.running]

    def ready_count(self) -> int:
        return sum(s.status.state is ServerState.READY for s in self.supervisors.values())
