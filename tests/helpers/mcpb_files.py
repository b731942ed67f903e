"""Real ``.mcpb`` bundles written with ``zipfile``: a working Python one and hostile variants."""

from __future__ import annotations

import json
import stat
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# A tiny server on the MCP SDK: its tool reads the settings the bundle passes in its env.
GREETER_SOURCE = '''\
import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("greeter")


@server.tool()
def greet(name: str) -> str:
    """Greet someone in the configured way."""
    key = os.environ.get("GREETER_KEY", "")
    return f"{os.environ['GREETING']}, {name}! (key of {len(key)} chars, args {sys.argv[1:]})"


server.run()
'''


def greeter_manifest(**changes: Any) -> dict[str, Any]:
    """A manifest of spec 0.3 for the greeter: one plain and one sensitive setting."""
    manifest: dict[str, Any] = {
        "manifest_version": "0.3",
        "name": "greeter",
        "display_name": "Greeter",
        "version": "1.0.0",
        "description": "Says hello",
        "author": {"name": "Test Author"},
        "server": {
            "type": "python",
            "entry_point": "server/main.py",
            "mcp_config": {
                "command": sys.executable,
                "args": ["${__dirname}/server/main.py", "${user_config.extra_dirs}"],
                "env": {"GREETING": "${user_config.greeting}", "GREETER_KEY": "${user_config.key}"},
            },
        },
        "user_config": {
            "greeting": {"type": "string", "title": "Greeting", "default": "Hello"},
            "key": {"type": "string", "title": "API key", "sensitive": True, "required": True},
            "extra_dirs": {"type": "directory", "title": "Folders", "multiple": True},
        },
        "tools": [{"name": "greet", "description": "Greet someone"}],
        "prompts": [{"name": "welcome", "description": "A welcome", "text": "Hi"}],
    }
    manifest.update(changes)
    return manifest


def write_bundle(
    path: Path,
    manifest: Mapping[str, Any] | str | None = None,
    files: Mapping[str, str | bytes] | None = None,
    *,
    links: Mapping[str, str] | None = None,
    no_manifest: bool = False,
) -> Path:
    """A zip with ``manifest.json`` (a dict or raw text; the greeter's by default), ``files``
    (the greeter's source by default) and symbolic-link entries ``links`` (name: target)."""
    files = {"server/main.py": GREETER_SOURCE} if files is None else files
    manifest = greeter_manifest() if manifest is None else manifest
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if not no_manifest:
            text = manifest if isinstance(manifest, str) else json.dumps(manifest)
            archive.writestr("manifest.json", text)
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path
