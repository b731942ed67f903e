"""``McpConfigStore``: ``mcp.json`` read into typed servers with named problems, and written
back from typed configs, on top of ``McpJsonFile``'s careful edits.

Every write re-reads the file first (hand edits made meanwhile are kept), keeps the top-level
keys it does not know (Claude's ``globalShortcut``, …), and is refused with ``ConfigError`` when
the file is not a JSON object: a broken file is never overwritten. Blocking: call it off the
event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hybridmcp_app.config.mcp_config import (
    McpConfig,
    RemoteServerConfig,
    ServerConfig,
    StdioServerConfig,
)
from hybridmcp_app.config.mcp_json_file import McpFileContents, McpJsonFile
from hybridmcp_app.config.mcp_problems import (
    McpConfigLoad,
    check_server,
    check_servers,
    require_server_name,
    servers_object,
)
from hybridmcp_app.config.mcp_secret_migration import PlaintextSecret, move_to_keychain
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import ConfigError

log = logging.getLogger("hybridmcp.mcp.config")
_KNOWN_KEYS = {
    key
    for model in (StdioServerConfig, RemoteServerConfig)
    for name, info in model.model_fields.items()
    for key in (name, info.alias)
    if key
}


class _Unchanged(Exception):
    """Raised inside an edit that turned out to change nothing: the file is left untouched."""


def server_entry(config: ServerConfig) -> dict[str, Any]:
    """A server as written in ``mcp.json``: Claude/Cline key names, defaults left out."""
    return config.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def _free_name(name: str, suffix: str, taken: Mapping[str, Any]) -> str:
    base = f"{name[: 63 - len(suffix)]}-{suffix}"
    candidates = [base] + [f"{base[:60]}-{n}" for n in range(2, 100)]
    return next(c for c in candidates if c not in taken)


class McpConfigStore(McpJsonFile):
    """Reads and writes one ``mcp.json``; also all of ``McpJsonFile``'s switches and edits."""

    def load(self) -> McpConfigLoad:
        """The valid servers and every problem; never raises (a broken file is a problem)."""
        try:
            data = self._raw()
        except ConfigError as error:
            result = McpConfigLoad(file_problem=str(error))
        else:
            result = check_servers(servers_object(data)[1])
        errors = tuple(str(p) for p in result.errors)
        file_problem = (result.file_problem,) if result.file_problem else ()
        self._last = McpFileContents(dict(result.servers), file_problem + errors)
        return result

    def save(self, config: McpConfig) -> None:
        """Make the file's servers exactly ``config.servers``.

        Keys of a kept server that this app does not know (``timeout``, …) stay in its entry.
        """

        def change(servers: dict[str, Any]) -> None:
            old = dict(servers)
            servers.clear()
            for name, server in config.servers.items():
                previous = old.get(name)
                extra = (
                    {k: v for k, v in previous.items() if k not in _KNOWN_KEYS}
                    if isinstance(previous, dict)
                    else {}
                )
                servers[name] = {**server_entry(server), **extra}

        self._edit(change)
        log.info("%s saved with %d servers", self.path.name, len(config.servers))

    def add_server(self, name: str, config: ServerConfig | Mapping[str, Any]) -> None:
        """Add a new server; ``ConfigError`` if the name is taken or invalid, or it is invalid."""
        require_server_name(name)
        entry = (
            server_entry(config)
            if isinstance(config, StdioServerConfig | RemoteServerConfig)
            else dict(config)
        )
        self.put_server(name, entry)

    def rename_server(self, old: str, new: str) -> None:
        """Rename in place (the server keeps its position in the file)."""
        if new == old:
            return
        require_server_name(new)

        def change(servers: dict[str, Any]) -> None:
            self._entry(servers, old)
            if new in servers:
                raise ConfigError(f"a server named {new!r} already exists")
            renamed = [(new if key == old else key, value) for key, value in servers.items()]
            servers.clear()
            servers.update(renamed)

        self._edit(change)

    def import_servers(
        self, entries: Mapping[str, ServerConfig], *, rename_clashes: bool, suffix: str
    ) -> dict[str, str]:
        """Add servers from another client in one write; returns ``{their name: name here}``.

        A server identical to one already here (under its name or an earlier renamed import)
        is skipped. A different one with a taken name is added as ``name-suffix`` when
        ``rename_clashes``, else it replaces the one here.
        """
        written: dict[str, str] = {}

        def change(servers: dict[str, Any]) -> None:
            written.clear()
            for name, config in entries.items():
                target = self._import_target(servers, name, config, rename_clashes, suffix)
                if target is not None:
                    servers[target] = server_entry(config)
                    written[name] = target
            if not written:
                raise _Unchanged

        try:
            self._edit(change)
        except _Unchanged:
            return {}
        log.info("imported %d servers into %s", len(written), self.path.name)
        return dict(written)

    @staticmethod
    def _import_target(
        servers: Mapping[str, Any],
        name: str,
        config: ServerConfig,
        rename_clashes: bool,
        suffix: str,
    ) -> str | None:
        require_server_name(name)
        same = [name] + ([_free_name(name, suffix, {})] if rename_clashes else [])
        if any(check_server(n, servers[n])[0] == config for n in same if n in servers):
            return None
        if name not in servers or not rename_clashes:
            return name
        return _free_name(name, suffix, servers)

    def move_secret_to_keychain(self, secret: PlaintextSecret, secrets: SecretStore) -> str:
        """Store a plain-text value in the keychain, write ``${secret:NAME}``; returns NAME."""
        names: list[str] = []

        def change(servers: dict[str, Any]) -> None:
            updated, name = move_to_keychain(self._entry(servers, secret.server), secret, secrets)
            servers[secret.server] = updated
            names.append(name)

        self._edit(change)
        log.info("%s now refers to secret %r", secret, names[0])
        return names[0]
