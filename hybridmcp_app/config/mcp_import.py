"""Import servers from Claude Desktop, Cursor and VS Code: a preview first, then the user's pick.

The preview says, per server, whether it is new here, has a namesake with a different config,
or is already here as it is; which entries are broken; and which values look like tokens in
plain text, which ``move_secrets_to_keychain`` stores in the keychain before anything is written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from hybridmcp_app.config.mcp_config import ServerConfig
from hybridmcp_app.config.mcp_config_store import McpConfigStore, server_entry
from hybridmcp_app.config.mcp_import_sources import ImportSource, read_servers
from hybridmcp_app.config.mcp_problems import NAME_RULE, ServerConfigProblem, check_server
from hybridmcp_app.config.mcp_secret_migration import (
    PlaintextSecret,
    find_plaintext_secrets,
    move_to_keychain,
)
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import ConfigError

ImportStatus = Literal["new", "changed", "identical"]


@dataclass(frozen=True)
class ImportedServer:
    """One server of the other client, as it would be written here."""

    name: str
    original_name: str
    config: ServerConfig
    existing: ServerConfig | None  # the server of that name here, if any
    plaintext: tuple[PlaintextSecret, ...] = ()

    @property
    def status(self) -> ImportStatus:
        if self.existing is None:
            return "new"
        return "identical" if self.existing == self.config else "changed"


@dataclass(frozen=True)
class ImportPreview:
    """What importing ``source`` would do; ``problems`` name the entries that cannot come."""

    source: ImportSource
    servers: tuple[ImportedServer, ...] = ()
    problems: tuple[ServerConfigProblem, ...] = ()
    file_problem: str | None = None

    def server(self, name: str) -> ImportedServer:
        for server in self.servers:
            if server.name == name:
                return server
        raise ConfigError(f"{self.source.client} has no server {name!r} to import")

    @property
    def plaintext_secrets(self) -> tuple[PlaintextSecret, ...]:
        return tuple(secret for server in self.servers for secret in server.plaintext)


def _usable_name(original: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "-", original).strip("-")[:64] or "server"
    name, number = base, 2
    while name in taken:
        name, number = f"{base[:60]}-{number}", number + 1
    taken.add(name)
    return name


def read_import(source: ImportSource, current: Mapping[str, ServerConfig]) -> ImportPreview:
    """Read ``source`` and compare it with ``current`` (the servers configured here)."""
    entries, file_problem = read_servers(source)
    if file_problem:
        return ImportPreview(source, file_problem=file_problem)
    servers: list[ImportedServer] = []
    problems: list[ServerConfigProblem] = []
    taken: set[str] = set()
    for original, entry in entries.items():
        name = _usable_name(str(original), taken)
        if name != original:
            message = f"imported as {name!r}: {NAME_RULE}"
            problems.append(ServerConfigProblem(str(original), "", message, "warning"))
        config, found = check_server(name, entry)
        if config is None:
            problems += found
            continue
        plaintext = tuple(find_plaintext_secrets(name, config))
        offered = {secret.field for secret in plaintext}
        problems += [p for p in found if p.field not in offered]  # offered instead
        servers.append(ImportedServer(name, str(original), config, current.get(name), plaintext))
    return ImportPreview(source, tuple(servers), tuple(problems))


def move_secrets_to_keychain(
    preview: ImportPreview, chosen: Iterable[PlaintextSecret], secrets: SecretStore
) -> ImportPreview:
    """Store the chosen values in the keychain; the preview then refers to them instead."""
    picked = set(chosen)
    servers = []
    for server in preview.servers:
        moving = [secret for secret in server.plaintext if secret in picked]
        if moving:
            entry = server_entry(server.config)
            for secret in moving:
                entry, _ = move_to_keychain(entry, secret, secrets)
            config, problems = check_server(server.name, entry)
            if config is None:  # cannot happen: only a value changed, to a reference
                raise ConfigError("; ".join(str(problem) for problem in problems))
            left = tuple(secret for secret in server.plaintext if secret not in picked)
            server = dataclasses.replace(server, config=config, plaintext=left)
        servers.append(server)
    return dataclasses.replace(preview, servers=tuple(servers))


def apply_import(
    store: McpConfigStore,
    preview: ImportPreview,
    chosen_names: Iterable[str],
    *,
    rename_clashes: bool = True,
) -> dict[str, str]:
    """Write the chosen servers in one edit; returns ``{name in the preview: name here}``.

    Servers identical to one here are skipped. With ``rename_clashes`` a server whose name is
    taken by a different one comes in as ``name-<client>`` (``github-claude``); without, it
    replaces the one here. The file is re-read first, so the check is against what it holds now.
    """
    chosen = {name: preview.server(name).config for name in chosen_names}
    if not chosen:
        return {}
    return store.import_servers(chosen, rename_clashes=rename_clashes, suffix=preview.source.slug)
