"""A supervised server's state as the UI shows it, and the restart policy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hybridmcp_app.mcp_host.mcp_items import McpPrompt, McpResource, McpTool


class ServerState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"


@dataclass(frozen=True)
class ServerStatus:
    """Where a server is: its state, why, since when, how often it restarted, what it offers."""

    name: str
    state: ServerState = ServerState.STOPPED
    message: str = ""
    ready_since: float | None = None  # time.time() when it last became ready
    restarts: int = 0
    tools: tuple[McpTool, ...] = ()
    resources: tuple[McpResource, ...] = ()
    prompts: tuple[McpPrompt, ...] = ()
    stderr_tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestartPolicy:
    """Timeouts and the backoff between automatic restarts.

    A server that fails ``crash_loop_count`` times within ``crash_loop_window_s`` is left
    failed (with its last stderr lines) until the user starts it again.
    """

    connect_timeout_s: float = 30.0
    request_timeout_s: float = 60.0
    ping_interval_s: float = 30.0
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    factor: float = 2.0
    crash_loop_count: int = 5
    crash_loop_window_s: float = 120.0
    stop_timeout_s: float = 10.0

    def delay(self, failures: int) -> float:
        """Seconds to wait before restart number ``failures`` (1 = the first)."""
        return float(min(self.max_delay_s, self.first_delay_s * self.factor ** (failures - 1)))
