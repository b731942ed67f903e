"""Each ``mcp.json`` server entry checked on its own, with the server and field of each problem.

The result keeps every valid server, so one broken entry never stops the others; warnings
(a token written in plain text, a variable only another client understands) do not stop the
server they are about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from hybridmcp_app.config.mcp_config import (
    McpConfig,
    RemoteServerConfig,
    ServerConfig,
    ServerName,
    StdioServerConfig,
)
from hybridmcp_app.config.mcp_json_file import SERVERS_KEYS
from hybridmcp_app.config.mcp_references import REFERENCE
from hybridmcp_app.config.mcp_secret_migration import find_plaintext_secrets
from hybridmcp_app.core.errors import ConfigError

_NAME = TypeAdapter(ServerName)
_VARIABLE = re.compile(r"\$\{[^}]*\}")
NAME_RULE = "the name may use letters, digits, '.', '_' and '-' (at most 64)"


@dataclass(frozen=True)
class ServerConfigProblem:
    """What is wrong with one server entry; ``field`` is a dotted path ("" for the entry)."""

    server: str
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.server}: {self.field}" if self.field else self.server
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class McpConfigLoad:
    """The valid servers, a problem per invalid entry or warning, and a whole-file problem."""

    servers: dict[str, ServerConfig] = field(default_factory=dict)
    problems: tuple[ServerConfigProblem, ...] = ()
    file_problem: str | None = None

    @property
    def errors(self) -> tuple[ServerConfigProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[ServerConfigProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def config(self) -> McpConfig:
        return McpConfig(servers=self.servers)

    def lines(self) -> tuple[str, ...]:
        """One readable line per problem, the file's own first (for the servers panel)."""
        head = (self.file_problem,) if self.file_problem else ()
        return head + tuple(str(problem) for problem in self.problems)


def check_server(name: str, entry: object) -> tuple[ServerConfig | None, list[ServerConfigProblem]]:
    """The typed server (None when invalid) and what is wrong with or doubtful about it."""
    try:
        _NAME.validate_python(name)
    except ValidationError:
        return None, [ServerConfigProblem(name, "", NAME_RULE)]
    if not isinstance(entry, Mapping):
        return None, [ServerConfigProblem(name, "", "must be an object")]
    if "command" not in entry and "url" not in entry:
        message = "needs either 'command' (a program to start) or 'url' (a running server)"
        return None, [ServerConfigProblem(name, "command", message)]
    kind: type[ServerConfig] = StdioServerConfig if "command" in entry else RemoteServerConfig
    try:
        config = kind.model_validate(entry)
    except ValidationError as error:
        return None, [
            ServerConfigProblem(name, ".".join(str(part) for part in item["loc"]), item["msg"])
            for item in error.errors(include_url=False, include_input=False)
        ]
    return config, warnings_for(name, config)


def warnings_for(name: str, config: ServerConfig) -> list[ServerConfigProblem]:
    """Plain-text secrets, and ``${…}`` variables of other clients (``${input:…}``, …)."""
    warnings = [
        ServerConfigProblem(
            name,
            secret.field,
            "looks like a secret written in plain text: store it in the keychain "
            "and write ${secret:NAME} here",
            "warning",
        )
        for secret in find_plaintext_secrets(name, config)
    ]
    for path, value in _string_fields(config):
        unknown = [v for v in _VARIABLE.findall(value) if not REFERENCE.fullmatch(v)]
        if unknown:
            message = f"{unknown[0]} is not understood here: use ${{secret:NAME}} or ${{env:NAME}}"
            warnings.append(ServerConfigProblem(name, path, message, "warning"))
    return warnings


def _string_fields(config: ServerConfig) -> list[tuple[str, str]]:
    if isinstance(config, StdioServerConfig):
        fields = [("command", config.command)]
        fields += [(f"args.{i}", arg) for i, arg in enumerate(config.args)]
        fields += [(f"env.{key}", value) for key, value in config.env.items()]
        return fields + ([("cwd", str(config.cwd))] if config.cwd else [])
    return [(f"headers.{key}", value) for key, value in config.headers.items()]


def check_servers(entries: object) -> McpConfigLoad:
    """Check every entry of a ``mcpServers`` object; never raises."""
    if not isinstance(entries, Mapping):
        return McpConfigLoad(file_problem="the servers entry is not an object")
    servers: dict[str, ServerConfig] = {}
    problems: list[ServerConfigProblem] = []
    for name, entry in entries.items():
        config, found = check_server(str(name), entry)
        if config is not None:
            servers[str(name)] = config
        problems += found
    return McpConfigLoad(servers, tuple(problems))


def servers_object(data: Mapping[str, Any]) -> tuple[str, object]:
    """The key holding the servers (Claude's ``mcpServers`` or VS Code's ``servers``) and it."""
    key = next((k for k in SERVERS_KEYS if k in data), SERVERS_KEYS[0])
    return key, data.get(key, {})


def require_server_name(name: str) -> None:
    """Raise ``ConfigError`` unless ``name`` can name a server."""
    try:
        _NAME.validate_python(name)
    except ValidationError:
        raise ConfigError(f"{name!r}: {NAME_RULE}") from None
