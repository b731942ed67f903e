"""Roots for MCP servers: the folders the user granted each server, as ``file://`` URIs.

No folder is granted by default. The user picks among the library's watched folders and the
workspace roots (``choices``) or any folder of their own; a change is kept in
``mcp-grants.json`` and the listeners hear of it, so the host can send the server
``notifications/roots/list_changed``. The permissions dialog and ``hybridmcp mcp grant`` change
a server's sampling grant here too, so one object holds what a server was granted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import mcp.types as types
from pydantic import FileUrl

from hybridmcp_app.config.mcp_grants import McpGrantsStore, SamplingGrant, ServerGrants
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import ConfigError

log = logging.getLogger("hybridmcp.services.roots")
RootsListener = Callable[[str], Awaitable[None]]


def root_choices(settings: Settings) -> list[Path]:
    """The folders offered when granting: the library's watched folders, then the workspace
    roots (each once)."""
    folders = (*settings.documents.watch_folders, *settings.mcp.workspace_roots)
    return list(dict.fromkeys(folder.expanduser() for folder in folders))


class McpRoots:
    """The host's ``RootsHandler``: ``await roots(server)``; ``grant`` changes a server's."""

    def __init__(
        self, grants: McpGrantsStore, choices: Callable[[], list[Path]] = lambda: []
    ) -> None:
        """``choices``: the folders offered when granting (``root_choices`` over the settings)."""
        self._grants = grants
        self.choices = choices
        self._listeners: list[RootsListener] = []

    def subscribe(self, listener: RootsListener) -> Callable[[], None]:
        """Call ``listener(server)`` after each change of a server's folders; returns the
        unsubscribe call."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def __call__(self, server: str) -> list[types.Root]:
        """The server's granted folders that still exist (a removed folder is left out)."""
        granted = await asyncio.to_thread(self._grants.grants_for, server)
        folders = await asyncio.to_thread(lambda: [p for p in granted.roots if p.is_dir()])
        return [
            types.Root(uri=FileUrl(folder.as_uri()), name=folder.name or str(folder))
            for folder in folders
        ]

    async def granted(self, server: str) -> tuple[Path, ...]:
        """The folders granted to ``server``, as stored."""
        return (await asyncio.to_thread(self._grants.grants_for, server)).roots

    async def grants_for(self, server: str) -> ServerGrants:
        """Everything granted to ``server``: its sampling and its folders."""
        return await asyncio.to_thread(self._grants.grants_for, server)

    async def set_sampling(self, server: str, sampling: SamplingGrant) -> None:
        """Keep ``sampling`` as ``server``'s sampling grant (its folders stay as they are)."""

        await asyncio.to_thread(
            self._grants.update, server, lambda g: g.model_copy(update={"sampling": sampling})
        )

    async def grant(self, server: str, folders: Iterable[Path]) -> tuple[Path, ...]:
        """Grant ``server`` exactly ``folders`` (an empty list takes every folder back).

        Raises ``ConfigError`` (one line, nothing changed) for a folder that is not an existing
        directory. Returns the folders as kept (absolute, resolved, each once)."""
        chosen = await asyncio.to_thread(_checked, folders)

        def granted(current: ServerGrants) -> ServerGrants:
            return current.model_copy(update={"roots": chosen})

        if await asyncio.to_thread(self._grants.update, server, granted):
            for listener in list(self._listeners):
                try:
                    await listener(server)
                except Exception as error:  # a server that went away must not undo the grant
                    log.warning("roots change not announced to %s: %s", server, error)
        return chosen


def _checked(folders: Iterable[Path]) -> tuple[Path, ...]:
    kept: list[Path] = []
    for folder in folders:
        path = folder.expanduser()
        if not path.is_absolute():
            raise ConfigError(f"grant a folder by its full path, not {str(folder)!r}")
        path = path.resolve()
        if not path.is_dir():
            raise ConfigError(f"{path} is not a folder on this computer")
        kept.append(path)
    return tuple(dict.fromkeys(kept))
