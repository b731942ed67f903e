"""Real MCP servers as subprocesses: the project's test server in its different behaviours."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psutil
import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.server_status import RestartPolicy
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor

REPO = Path(__file__).resolve().parents[3]
FAST = RestartPolicy(
    connect_timeout_s=15, request_timeout_s=5, ping_interval_s=30, first_delay_s=0.2,
    max_delay_s=1.0, crash_loop_count=3, crash_loop_window_s=60, stop_timeout_s=5,
)  # fmt: skip


def mcp_test_server(*options: str, env: dict[str, str] | None = None) -> StdioServerConfig:
    """The test server (tests/helpers/mcp_test_server.py) started with ``options``."""
    return StdioServerConfig(
        command=sys.executable,
        args=("-m", "tests.helpers.mcp_test_server", *options),
        env=env or {},
        cwd=REPO,
    )


def server_processes() -> list[psutil.Process]:
    """Test-server processes that are children of this test run."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "tests.helpers.mcp_test_server" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


SupervisorFactory = Callable[..., ServerSupervisor]


@pytest.fixture
async def supervise(tmp_path: Path) -> AsyncIterator[SupervisorFactory]:
    """Make supervisors for test servers; every one is stopped at the end."""
    made: list[ServerSupervisor] = []

    def factory(
        name: str, config: StdioServerConfig, policy: RestartPolicy = FAST
    ) -> ServerSupervisor:
        supervisor = ServerSupervisor(name, lambda: config, tmp_path / f"{name}.log", policy)
        made.append(supervisor)
        return supervisor

    yield factory
    for supervisor in made:
        await supervisor.stop()
