"""Tool-call round trip through the app's MCP host versus the raw SDK client, and the time to
start five servers in parallel versus one.

The server is the project's test MCP server (``tests.helpers.mcp_test_server``) as a stdio
subprocess. Calls: ``echo`` with a short text, through ``McpRegistry.call`` (host: namespacing,
switches, supervision) and through ``mcp.Client.call_tool`` on its own connection, alternating
in blocks of 50; medians of 5 blocks. Start: from ``McpHost.start`` to every server ready,
1 server versus 5, alternating, medians of 3. Target: call_ratio <= 1.2.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

from benchmarks.report import emit, median, print_table
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState

REPO = Path(__file__).resolve().parents[1]
BLOCKS, CALLS_PER_BLOCK, START_RUNS = 5, 50, 3
ARGS = ["-m", "tests.helpers.mcp_test_server"]


def write_config(path: Path, servers: int) -> None:
    entries = {f"s{i}": {"command": sys.executable, "args": ARGS, "cwd": str(REPO)}
               for i in range(servers)}  # fmt: skip
    path.write_text(json.dumps({"mcpServers": entries}))


async def ready(host: McpHost, count: int) -> None:
    while host.ready_count() < count:
        failed = [s.status.message for s in host.supervisors.values()
                  if s.status.state is ServerState.FAILED]  # fmt: skip
        if failed:
            raise RuntimeError(f"a server failed: {failed}")
        await asyncio.sleep(0.005)


async def start_time(folder: Path, servers: int) -> float:
    path = folder / f"mcp-{servers}.json"
    write_config(path, servers)
    host = McpHost(McpJsonFile(path), folder / "logs")
    started = time.perf_counter()
    await host.start()
    await ready(host, servers)
    elapsed = time.perf_counter() - started
    await host.shutdown()
    return elapsed


async def call_times(folder: Path) -> tuple[list[float], list[float]]:
    path = folder / "mcp-call.json"
    write_config(path, 1)
    host = McpHost(McpJsonFile(path), folder / "logs")
    await host.start()
    await ready(host, 1)
    through_host: list[float] = []
    direct: list[float] = []
    parameters = StdioServerParameters(command=sys.executable, args=ARGS, cwd=REPO)
    async with Client(parameters) as client:
        for _ in range(3):  # warm-up
            await host.registry.call("s0__echo", {"text": "warm"})
            await client.call_tool("echo", {"text": "warm"})
        for _ in range(BLOCKS):
            started = time.perf_counter()
            for _ in range(CALLS_PER_BLOCK):
                outcome = await host.registry.call("s0__echo", {"text": "ping"})
                assert outcome.text == "ping", outcome
            through_host.append((time.perf_counter() - started) / CALLS_PER_BLOCK * 1000)
            started = time.perf_counter()
            for _ in range(CALLS_PER_BLOCK):
                await client.call_tool("echo", {"text": "ping"})
            direct.append((time.perf_counter() - started) / CALLS_PER_BLOCK * 1000)
    await host.shutdown()
    return through_host, direct


async def measure(folder: Path) -> dict[str, float]:
    host_ms, sdk_ms = await call_times(folder)
    one: list[float] = []
    five: list[float] = []
    for _ in range(START_RUNS):
        one.append(await start_time(folder, 1))
        five.append(await start_time(folder, 5))
    return {
        "call_ms_host": median(host_ms),
        "call_ms_sdk": median(sdk_ms),
        "start1_s": median(one),
        "start5_s": median(five),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hybridmcp-bench-mcp-") as folder:
        results = asyncio.run(measure(Path(folder)))
    call_ratio = results["call_ms_host"] / results["call_ms_sdk"]
    start_ratio = results["start5_s"] / results["start1_s"]
    print_table(
        f"MCP host vs SDK: medians of {BLOCKS} blocks of {CALLS_PER_BLOCK} calls; "
        f"start medians of {START_RUNS}",
        [
            ["echo call through the host (ms)", f"{results['call_ms_host']:.3f}"],
            ["echo call through the SDK client (ms)", f"{results['call_ms_sdk']:.3f}"],
            ["start 1 server to ready (s)", f"{results['start1_s']:.3f}"],
            ["start 5 servers in parallel to ready (s)", f"{results['start5_s']:.3f}"],
        ],
        ["measure", "value"],
    )
    verdict = "met" if call_ratio <= 1.2 else "NOT met"
    print(f"call ratio host/SDK = {call_ratio:.3f} (target <= 1.2: {verdict}); "
          f"start 5 / start 1 = {start_ratio:.2f}")  # fmt: skip
    emit(
        "mcp_host",
        {**results, "call_ratio": call_ratio, "start5_vs_start1_ratio": start_ratio},
        notes="echo tool of the project's test MCP server over stdio; host = McpRegistry.call "
        "via ServerSupervisor/MCPClient, SDK = mcp.Client.call_tool on its own connection; "
        "start = McpHost.start until every server is ready (Python interpreter start-up "
        "included)",
    )


if __name__ == "__main__":
    main()
