"""What the user lets each MCP server ask of the host: sampling and roots (``mcp-grants.json``).

Kept in HybridMCP's own config dir, not in ``mcp.json``: that file is portable and may be
another client's (Claude Desktop's, chosen in Settings) or pasted from the web, and a file that
could grant itself sampling without asking, or a user's folders, would defeat the point of
asking. Nothing is granted by default: sampling asks every time, and no folder is offered.
Blocking: call it off the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from hybridmcp_app.config.json_model_file import read_model_file, write_model_file
from hybridmcp_app.config.mcp_config import ServerName
from hybridmcp_app.core.frozen_model import FrozenModel

MCP_GRANTS_FILE = "mcp-grants.json"
DEFAULT_SAMPLING_MAX_TOKENS = 1024

# local: the loaded local model; provider: the chosen (or active) provider; auto: the server's
# model hints choose between the two; off: the server gets "sampling is off".
SamplingSource = Literal["local", "provider", "auto", "off"]
# ask: show every request and its answer; always: answer without asking; never: refuse.
SamplingApproval = Literal["ask", "always", "never"]


class SamplingGrant(FrozenModel):
    """How one server's ``sampling/createMessage`` requests are answered."""

    source: SamplingSource = "local"
    approval: SamplingApproval = "ask"
    provider: str | None = Field(None, description="The provider by name; None: the active one.")
    max_tokens: int = Field(
        DEFAULT_SAMPLING_MAX_TOKENS, ge=1, le=131_072, description="Longest answer a server gets."
    )


class ServerGrants(FrozenModel):
    """One server's grants: sampling, and the folders it may see as roots."""

    sampling: SamplingGrant = Field(default_factory=SamplingGrant)
    roots: tuple[Path, ...] = ()

    @field_validator("roots")
    @classmethod
    def _absolute(cls, roots: tuple[Path, ...]) -> tuple[Path, ...]:
        for root in roots:
            if not root.is_absolute():
                raise ValueError(f"a granted folder must be an absolute path, got {str(root)!r}")
        return tuple(dict.fromkeys(roots))


class McpGrantsFile(FrozenModel):
    """The whole file: server name → its grants."""

    version: int = 1
    servers: dict[ServerName, ServerGrants] = Field(default_factory=dict)


class McpGrantsStore:
    """Reads and writes the grants; thread-safe (one lock around each change).

    A file that cannot be read is moved aside (``.bad``) and every server starts ungranted;
    ``problem`` says so in one line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        self._lock = threading.Lock()

    def grants_for(self, server: str) -> ServerGrants:
        """``server``'s grants (the defaults when it has none)."""
        with self._lock:
            return self._read().servers.get(server, ServerGrants())

    def all(self) -> dict[str, ServerGrants]:
        with self._lock:
            return dict(self._read().servers)

    def save(self, server: str, grants: ServerGrants) -> None:
        """Keep ``grants`` for ``server`` (replacing what it had)."""
        self.update(server, lambda _current: grants)

    def update(self, server: str, change: Callable[[ServerGrants], ServerGrants]) -> bool:
        """Replace ``server``'s grants with ``change(its grants)``, read and written under one
        lock (no change made meanwhile is lost); False when that changed nothing."""
        with self._lock:
            current = self._read()
            before = current.servers.get(server, ServerGrants())
            after = change(before)
            if after == before:
                return False
            servers = {**current.servers, server: after}
            self._write(current.model_copy(update={"servers": servers}))
            return True

    def _read(self) -> McpGrantsFile:
        data, problem = read_model_file(
            self.path,
            McpGrantsFile,
            "no server is granted sampling or folders until you grant them again",
        )
        if problem is not None:
            self.problem = problem
        return data

    def _write(self, data: McpGrantsFile) -> None:
        write_model_file(self.path, data)
