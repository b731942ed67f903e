"""Where other MCP clients keep their server lists, per platform, and reading them.

Claude Desktop and Cursor write ``mcpServers``; VS Code writes ``servers`` in its own ``mcp.json``
(user or ``.vscode/`` of a workspace) and ``mcp.servers`` in ``settings.json``, which may hold
comments and trailing commas. Every file is read as JSONC, a superset of JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridmcp_app.config.json_limits import load_json_file
from hybridmcp_app.core.errors import ConfigError

_CLAUDE_KEYS = (("mcpServers",),)
_VS_CODE_KEYS = (("servers",),)
_VS_CODE_SETTINGS_KEYS = (("mcp", "servers"), ("mcp.servers",))


@dataclass(frozen=True)
class ImportSource:
    """One other client's config file and where in it the servers are."""

    client: str
    slug: str  # names a renamed clash: "github-claude"
    path: Path
    servers_at: tuple[tuple[str, ...], ...] = _CLAUDE_KEYS

    @property
    def label(self) -> str:
        return f"{self.client} ({self.path})"


def _app_config_dir(home: Path, platform: str, environ: Mapping[str, str]) -> Path:
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform.startswith("win"):
        appdata = environ.get("APPDATA", "")
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    xdg = environ.get("XDG_CONFIG_HOME", "")
    return Path(xdg) if xdg else home / ".config"


def candidate_sources(
    home: Path, platform: str, environ: Mapping[str, str], *, workspace: Path | None = None
) -> list[ImportSource]:
    """Every place looked at, whether or not a file is there (``platform`` as ``sys.platform``)."""
    app_dir = _app_config_dir(home, platform, environ)
    sources = [
        ImportSource("Claude Desktop", "claude", app_dir / "Claude" / "claude_desktop_config.json"),
        ImportSource("Cursor", "cursor", home / ".cursor" / "mcp.json"),
    ]
    for product, client in (("Code", "VS Code"), ("Code - Insiders", "VS Code Insiders")):
        user_dir = app_dir / product / "User"
        sources += [
            ImportSource(client, "vscode", user_dir / "mcp.json", _VS_CODE_KEYS),
            ImportSource(client, "vscode", user_dir / "settings.json", _VS_CODE_SETTINGS_KEYS),
        ]
    if workspace is not None:
        sources += [
            ImportSource(
                "VS Code workspace", "vscode", workspace / ".vscode" / "mcp.json", _VS_CODE_KEYS
            ),
            ImportSource("Cursor workspace", "cursor", workspace / ".cursor" / "mcp.json"),
        ]
    return sources


def read_servers(source: ImportSource) -> tuple[dict[str, Any], str | None]:
    """The raw server entries by name, or none and why the file cannot be used."""
    name = source.path.name
    try:
        data = load_json_file(source.path, jsonc=True)
    except ConfigError as error:  # over the size or nesting limit
        return {}, str(error)
    except OSError as error:
        return {}, f"cannot read {source.path}: {error.strerror}"
    except UnicodeDecodeError:
        return {}, f"{name} is not UTF-8 text"
    except json.JSONDecodeError as error:
        return {}, f"{name} is not valid JSON (line {error.lineno}, column {error.colno})"
    if not isinstance(data, dict):
        return {}, f"{name}: the top level must be an object"
    for keys in source.servers_at:
        found: Any = data
        for key in keys:
            found = found.get(key) if isinstance(found, dict) else None
        if found is not None:
            if not isinstance(found, dict):
                return {}, f"{name}: '{'.'.join(keys)}' is not an object"
            return found, None
    return {}, None


def find_importable(
    home: Path, platform: str, environ: Mapping[str, str], *, workspace: Path | None = None
) -> list[ImportSource]:
    """The sources with servers to offer, or a problem to show (a broken Claude config, …).

    A ``settings.json`` without MCP servers (most of them) is left out.
    """
    found = []
    for source in candidate_sources(home, platform, environ, workspace=workspace):
        if source.path.is_file():
            servers, problem = read_servers(source)
            if servers or problem:
                found.append(source)
    return found
