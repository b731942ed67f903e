"""The project's own MCP servers as the MCP tab lists them out of the box, and as snippets for
other clients.

A new ``mcp.json`` starts with ``documents`` (on), ``workspace``, ``docstore``, ``storage`` and
``turtle_soup`` (off), each an ordinary stdio entry
(``python -m hybridmcp_app.mcp_servers.<name>``) that the user can switch, edit or remove like
any other. The app runs ``documents`` in its own process rather than as a subprocess
(``in_process``): the embedded library has one owner (``library_lock``), and while the app is
open that owner is the app. Other clients (Claude Desktop) start the same command themselves
(it relays to the app while the app is open: ``documents_sharing``); ``claude_desktop_snippet``
gives the entry to paste into their config.

Started by the app, they get what they need to read the app's settings (its
``HYBRIDMCP_HOME``, or the variables that place the platform's config folders) and nothing
else of the app's environment: no keys, no tokens (``builtin_server_environment``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybridmcp_app.config.mcp_config import ServerConfig, StdioServerConfig
from hybridmcp_app.config.paths import HOME_ENV_VAR

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger("hybridmcp.mcp.builtin")
PACKAGE = "hybridmcp_app.mcp_servers"
DOCUMENTS_MODULE = f"{PACKAGE}.documents"
WORKSPACE_MODULE = f"{PACKAGE}.workspace"
DOCSTORE_MODULE = f"{PACKAGE}.docstore"
STORAGE_MODULE = f"{PACKAGE}.storage"
TURTLE_SOUP_MODULE = f"{PACKAGE}.turtle_soup"


@dataclass(frozen=True)
class BuiltinServer:
    """One of our servers: its module, whether a new ``mcp.json`` has it on, what it does."""

    module: str
    on_by_default: bool
    summary: str


# The one place a server of ours is registered (its module is ``mcp_servers/<name>.py``).
BUILTIN_SERVERS: dict[str, BuiltinServer] = {
    "documents": BuiltinServer(
        DOCUMENTS_MODULE, True, "search your document library (the Library tab) from the chat"
    ),
    "workspace": BuiltinServer(
        WORKSPACE_MODULE, False, "read, search and edit files in folders you allow"
    ),
    "docstore": BuiltinServer(
        DOCSTORE_MODULE, False, "a JSON document store in SQLite or PostgreSQL"
    ),
    "storage": BuiltinServer(
        STORAGE_MODULE, False, "files in folders and cloud buckets (Settings → Storage)"
    ),
    "turtle_soup": BuiltinServer(
        TURTLE_SOUP_MODULE, False, "play turtle soup from any MCP client"
    ),  # its host: Settings → Turtle soup
}
InProcessServers = Mapping[str, Callable[[], "MCPServer"]]  # module → builds the server
# Where platformdirs puts the config, data, cache and log folders (Linux/BSD: XDG; Windows:
# the AppData folders; macOS: under HOME, which the SDK passes anyway).
PLATFORM_DIR_VARIABLES = (
    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
    "APPDATA", "LOCALAPPDATA",
)  # fmt: skip


def builtin_entries(python: str | None = None) -> dict[str, dict[str, Any]]:
    """The ``mcpServers`` entries a new ``mcp.json`` starts with."""
    command = python or sys.executable
    entries: dict[str, dict[str, Any]] = {}
    for name, server in BUILTIN_SERVERS.items():
        entry: dict[str, Any] = {"command": command, "args": ["-m", server.module]}
        if not server.on_by_default:
            entry["disabled"] = True
        entries[name] = entry
    return entries


def builtin_module(config: ServerConfig) -> str | None:
    """The module of one of the project's servers that ``config`` starts, if it is one."""
    if not isinstance(config, StdioServerConfig):
        return None
    args = list(config.args)
    if "-m" not in args or args.index("-m") + 1 >= len(args):
        return None
    module = args[args.index("-m") + 1]
    return module if module.startswith(PACKAGE + ".") else None


def builtin_server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What one of the project's servers needs from the app's ``environ`` to use the app's
    settings and files: ``HYBRIDMCP_HOME`` (absolute: the server may start in another folder)
    when the app has one, else the variables that place the platform's folders.

    Nothing else: a variable such as ``HYBRIDMCP_MCP_TOKEN`` or ``OPENAI_API_KEY`` stays with
    the app."""
    home = environ.get(HOME_ENV_VAR, "").strip()
    if home:
        return {HOME_ENV_VAR: str(Path(home).expanduser().resolve())}
    return {name: environ[name] for name in PLATFORM_DIR_VARIABLES if environ.get(name)}


def with_running_python(config: ServerConfig) -> ServerConfig:
    """One of the project's servers whose interpreter is gone (the bundle moved, the virtual
    environment was made again elsewhere) starts with the Python running now; any other entry,
    and one whose command exists, is left as it is."""
    if not isinstance(config, StdioServerConfig) or builtin_module(config) is None:
        return config
    command = Path(config.command)
    if not command.is_absolute() or command.exists():
        return config
    log.info("%s is gone: starting %s with %s", command, builtin_module(config), sys.executable)
    return config.model_copy(update={"command": sys.executable})


def claude_desktop_snippet(name: str, config: ServerConfig) -> str:
    """The entry to paste into ``claude_desktop_config.json`` (or any ``mcp.json``).

    ``${secret:…}`` references stay as they are: other clients do not read HybridMCP's keychain
    entries, so the user puts the value in themselves."""
    entry: dict[str, Any]
    if isinstance(config, StdioServerConfig):
        entry = {"command": config.command, "args": list(config.args)}
        if config.env:
            entry["env"] = dict(config.env)
        if config.cwd is not None:
            entry["cwd"] = str(config.cwd)
    else:
        entry = {"url": str(config.url)}
        if config.headers:
            entry["headers"] = dict(config.headers)
    return json.dumps({"mcpServers": {name: entry}}, indent=2)
