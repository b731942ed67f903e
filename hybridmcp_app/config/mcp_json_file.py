"""``mcp.json`` on disk: servers read one by one (a broken entry is reported, the others still
load), and the UI's switches and edits written back without losing anything else in the file.

Every change re-reads the file first, so hand edits made meanwhile are kept; a file that is not
valid JSON is never overwritten — the change is refused with the reason. A file over the size or
nesting limit (``json_limits``) is refused the same way, and of a list of more than
``MAX_SERVERS`` servers only the first are used (the file keeps them all).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hybridmcp_app.config.atomic_files import write_text_atomically
from hybridmcp_app.config.json_limits import load_json_file
from hybridmcp_app.config.mcp_config import RemoteServerConfig, ServerName, StdioServerConfig
from hybridmcp_app.core.errors import ConfigError, describe_validation_error

log = logging.getLogger("hybridmcp.mcp.config")
ServerConfig = StdioServerConfig | RemoteServerConfig
_SERVER = TypeAdapter(ServerConfig)
_NAME = TypeAdapter(ServerName)
SERVERS_KEYS = ("mcpServers", "servers")  # Claude Desktop / Cursor, VS Code
# Each enabled server is a process, each listed one a row in the MCP tab: real lists hold a few
# dozen. A thousand keeps the tab quick to build (about 0.3 s) and is far beyond any real use.
MAX_SERVERS = 1000


@dataclass(frozen=True)
class McpFileContents:
    """The valid servers, and one line per problem (``server: field: message``)."""

    servers: dict[str, ServerConfig] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def parse_servers(entries: object, limit: int | None = None) -> McpFileContents:
    """Validate each server entry on its own; past ``limit`` entries the rest are left out
    (and that is the first problem)."""
    if not isinstance(entries, dict):
        return McpFileContents(problems=("the servers entry is not an object",))
    servers: dict[str, ServerConfig] = {}
    problems: list[str] = []
    items = list(entries.items())
    if limit is not None and len(items) > limit:
        problems.append(
            f"it lists {len(items):,} servers and HybridMCP runs at most {limit:,}: only the "
            f"first {limit:,} are used (remove the ones you do not need)"
        )
        items = items[:limit]
    for name, entry in items:
        try:
            _NAME.validate_python(name)
        except ValidationError:
            problems.append(f"{name}: the name may use letters, digits, '.', '_' and '-' (≤ 64)")
            continue
        try:
            servers[name] = _SERVER.validate_python(entry)
        except ValidationError as error:
            problems.append(f"{name}: {'; '.join(_server_problems(entry, error))}")
    return McpFileContents(servers, tuple(problems))


def _server_problems(entry: object, error: ValidationError) -> list[str]:
    """Name the problem of the kind of server it looks like (command → stdio, url → remote)."""
    if isinstance(entry, dict) and ("command" in entry or "url" in entry):
        kind: type[ServerConfig] = StdioServerConfig if "command" in entry else RemoteServerConfig
        try:
            kind.model_validate(entry)
        except ValidationError as specific:
            return describe_validation_error(specific)
    if isinstance(entry, dict):
        return ["needs either 'command' (a program to start) or 'url' (a running server)"]
    return describe_validation_error(error)


class McpJsonFile:
    """Reads and edits one ``mcp.json``; blocking (call it off the event loop)."""

    def __init__(self, path: Path, defaults: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self._defaults = dict(defaults or {})  # the servers of a file not yet written
        self._last = McpFileContents()

    # ------------------------------------------------------------------ reading
    def _raw(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"mcpServers": copy.deepcopy(self._defaults)}
        try:
            data = load_json_file(self.path)  # ConfigError over the size or nesting limit
        except OSError as error:
            raise ConfigError(f"cannot read {self.path}: {error.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            where = (
                f" (line {error.lineno}, column {error.colno})"
                if isinstance(error, json.JSONDecodeError)
                else ""
            )
            raise ConfigError(f"{self.path.name} is not valid JSON{where}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path.name}: the top level must be an object")
        return data

    @staticmethod
    def _servers_key(data: dict[str, Any]) -> str:
        return next((key for key in SERVERS_KEYS if key in data), "mcpServers")

    def read(self) -> McpFileContents:
        """Never raises: a broken file gives no servers and the reason as the problem."""
        try:
            data = self._raw()
        except ConfigError as error:
            self._last = McpFileContents(problems=(str(error),))
            return self._last
        self._last = parse_servers(data.get(self._servers_key(data), {}), MAX_SERVERS)
        return self._last

    @property
    def contents(self) -> McpFileContents:
        """What the last read or edit found in the file."""
        return self._last

    def tool_enabled(self, server: str, tool: str) -> bool:
        config = self._last.servers.get(server)
        return config is None or config.tool_enabled(tool)

    def tool_auto_approved(self, server: str, tool: str, read_only: bool) -> bool:
        config = self._last.servers.get(server)
        return config is not None and config.tool_auto_approved(tool, read_only)

    # ------------------------------------------------------------------ editing
    def _edit(self, change: Any) -> None:
        data = self._raw()  # raises ConfigError for a broken file: never overwrite it
        key = self._servers_key(data)
        servers = data.setdefault(key, {})
        if not isinstance(servers, dict):
            raise ConfigError(f"{self.path.name}: '{key}' is not an object")
        change(servers)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.read()

    def _entry(self, servers: dict[str, Any], name: str) -> dict[str, Any]:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            raise ConfigError(f"no server named {name!r} in {self.path.name}")
        return entry

    def set_server_enabled(self, name: str, enabled: bool) -> None:
        def change(servers: dict[str, Any]) -> None:
            entry = self._entry(servers, name)
            if enabled:
                entry.pop("disabled", None)
            else:
                entry["disabled"] = True

        self._edit(change)

    def _toggle_listed(self, server: str, key: str, tool: str, listed: bool) -> None:
        def change(servers: dict[str, Any]) -> None:
            entry = self._entry(servers, server)
            names = [n for n in entry.get(key, []) if n != tool] + ([tool] if listed else [])
            if names:
                entry[key] = names
            else:
                entry.pop(key, None)

        self._edit(change)

    def set_tool_enabled(self, server: str, tool: str, enabled: bool) -> None:
        self._toggle_listed(server, "disabledTools", tool, not enabled)

    def set_tool_auto_approve(self, server: str, tool: str, auto: bool, read_only: bool) -> None:
        """Auto-approve or ask; read-only tools are auto unless listed in ``askTools``."""
        if read_only:
            self._toggle_listed(server, "askTools", tool, not auto)
        else:
            self._toggle_listed(server, "autoApprove", tool, auto)

    def put_server(self, name: str, entry: dict[str, Any], *, replacing: str | None = None) -> None:
        """Add ``name`` (or replace ``replacing``, possibly renamed); the entry is validated."""
        _NAME.validate_python(name)
        problems = parse_servers({name: entry}).problems
        if problems:
            raise ConfigError(problems[0])

        def change(servers: dict[str, Any]) -> None:
            if name in servers and name != replacing:
                raise ConfigError(f"a server named {name!r} already exists")
            if replacing is not None:
                self._entry(servers, replacing)
                servers.pop(replacing)
            servers[name] = entry

        self._edit(change)

    def entry(self, name: str) -> dict[str, Any]:
        """The raw entry of a server, as written in the file (for the edit dialog)."""
        data = self._raw()
        return dict(self._entry(data.get(self._servers_key(data), {}), name))

    def remove_server(self, name: str) -> dict[str, Any]:
        """Remove it; returns its entry so the caller can offer Undo (``put_server``)."""
        removed: dict[str, Any] = {}

        def change(servers: dict[str, Any]) -> None:
            removed.update(self._entry(servers, name))
            servers.pop(name)

        self._edit(change)
        return removed

    def duplicate_server(self, name: str) -> str:
        """A copy named ``name-copy`` (``-copy-2``, …), switched off; returns the new name."""
        entry = self.entry(name)
        existing = set(self._last.servers) | {name}
        candidate, number = f"{name}-copy", 2
        while candidate in existing:
            candidate, number = f"{name}-copy-{number}", number + 1
        entry["disabled"] = True
        self.put_server(candidate, entry)
        return candidate
