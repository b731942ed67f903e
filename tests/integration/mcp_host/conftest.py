"""Real MCP servers as subprocesses: the project's test server in its different behaviours."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psutil
import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.mcp_client import ServerConfig
from hybridmcp_app.mcp_host.server_status import RestartPolicy
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor
from tests.helpers.llama_server import free_port
from tests.helpers.npm_packages import npm_binary
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S

REPO = Path(__file__).resolve().parents[3]
# Quick restarts (short backoff delays) with patient deadlines: on a busy machine a server may
# take many seconds to start or to answer, and a deadline would make the supervisor kill it as
# hung. Tests about a deadline build their own policy. No pings (their 10 s deadline is the
# app's; none of these tests is about them), and every failure counts towards a crash loop.
FAST = RestartPolicy(
    connect_timeout_s=PATIENCE_S, request_timeout_s=PATIENCE_S, ping_interval_s=3600,
    first_delay_s=0.2, max_delay_s=1.0, crash_loop_count=3, crash_loop_window_s=3600,
    stop_timeout_s=PATIENCE_S,
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

    def factory(name: str, config: ServerConfig, policy: RestartPolicy = FAST) -> ServerSupervisor:
        supervisor = ServerSupervisor(name, lambda: config, tmp_path / f"{name}.log", policy)
        made.append(supervisor)
        return supervisor

    yield factory
    for supervisor in made:
        await supervisor.stop()


EVERYTHING_VERSION = "2026.8.31"  # 13 tools, 7 resources, 4 prompts; runs on Node 18+


@pytest.fixture(scope="session")
def everything_server() -> Path:
    """npm's reference server, installed once into the user's cache (npm registry needed)."""
    return npm_binary(
        "@modelcontextprotocol/server-everything", EVERYTHING_VERSION, "mcp-server-everything"
    )


@pytest.fixture
def http_test_server() -> Iterator[str]:
    """The test server over Streamable HTTP on 127.0.0.1; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.mcp_test_server", "--http", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the HTTP test server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        stop(process)
