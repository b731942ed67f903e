"""Tool-call round trip through the app's MCP host versus the raw SDK client, and the time to
start five servers in parallel versus one, and a sampling round trip.

The server is the project's test MCP server (``tests.helpers.mcp_test_server``) as a stdio
subprocess. Calls: ``echo`` with a short text, through ``McpRegistry.call`` (host: namespacing,
switches, supervision) and through ``mcp.Client.call_tool`` on its own connection, alternating
in blocks of 50; medians of 5 blocks. Start: from ``McpHost.start`` to every server ready,
1 server versus 5, alternating, medians of 3. Target: call_ratio <= 1.2.

Stateless: our workspace server over Streamable HTTP on 127.0.0.1, spoken to at 2026-07-28
(``server/discover``, no session): ``read_file`` of a small file through ``MCPClient`` (the
host's connection) against the SDK's ``Client`` on its own connection, alternating in blocks of
50; medians of 5 blocks (``stateless_call_ms``, ``stateless_call_ratio``).

Sampling: the test sampling server (``tests.helpers.sampling_server``, stdio) asks the host for a
completion inside a tool call, through the host's ``MCPClient`` and its ``HostRequests``;
``McpSampler`` answers with the embedded SmolLM2 (greedy, 16 tokens, approval "always" for the
server) and the server returns it (server → local model → server), against ``backend.complete``
of the same messages; alternating, medians of 5 blocks of 3. Target: sampling_ratio <= 1.2.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

from benchmarks.report import emit, median, print_table
from hybridmcp_app.config.mcp_config import RemoteServerConfig, StdioServerConfig
from hybridmcp_app.config.mcp_grants import McpGrantsStore, SamplingGrant, ServerGrants
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.mcp_host.builtin_servers import WORKSPACE_MODULE
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_client import MCPClient
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from hybridmcp_app.services.mcp_sampling import DenyingApprover, McpSampler
from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop, wait_for_port

REPO = Path(__file__).resolve().parents[1]
BLOCKS, CALLS_PER_BLOCK, START_RUNS = 5, 50, 3
ARGS = ["-m", "tests.helpers.mcp_test_server"]
SAMPLING_BLOCKS, SAMPLES_PER_BLOCK, SAMPLE_TOKENS = 5, 3, 16
SAMPLE_QUESTION = "Name three colours of the rainbow."
SERVER_START_S = 120.0


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


async def sampling_times(folder: Path, backend: LlamaCppBackend) -> tuple[list[float], list[float]]:
    """Round trips through the server versus direct completions of the same messages (ms)."""
    grants = McpGrantsStore(folder / "mcp-grants.json")
    grants.save("sampler", ServerGrants(sampling=SamplingGrant(approval="always")))

    async def local() -> LlamaCppBackend:
        return backend

    sampler = McpSampler(grants, local, None, DenyingApprover())  # "always": never asked
    message = {"role": "user", "content": {"type": "text", "text": SAMPLE_QUESTION}}
    params = json.dumps({"messages": [message], "maxTokens": SAMPLE_TOKENS, "temperature": 0.0})
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=SAMPLE_QUESTION),),
        parameters=ModelParameters(temperature=0.0, max_tokens=SAMPLE_TOKENS),
    )
    server = StdioServerConfig(
        command=sys.executable, args=("-m", "tests.helpers.sampling_server"), cwd=REPO
    )
    through: list[float] = []
    direct: list[float] = []
    client = MCPClient("sampler", server, requests=HostRequests(sample=sampler))
    await client.connect()
    try:

        async def round_trip() -> str:
            outcome = await client.call_tool("sample", {"params_json": params})
            assert not outcome.is_error and '"error"' not in outcome.text, outcome
            return outcome.text

        expected = (await backend.complete(request)).text
        assert json.loads(await round_trip())["content"]["text"] == expected  # same answer
        for _ in range(SAMPLING_BLOCKS):
            started = time.perf_counter()
            for _ in range(SAMPLES_PER_BLOCK):
                await round_trip()
            through.append((time.perf_counter() - started) / SAMPLES_PER_BLOCK * 1000)
            started = time.perf_counter()
            for _ in range(SAMPLES_PER_BLOCK):
                await backend.complete(request)
            direct.append((time.perf_counter() - started) / SAMPLES_PER_BLOCK * 1000)
    finally:
        await client.cleanup()
    return through, direct


def start_workspace(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Our workspace server over Streamable HTTP on 127.0.0.1, serving a folder with one note."""
    root = folder / "workspace"
    root.mkdir()
    (root / "notes.md").write_text("Otters hold hands.\n")
    port = free_port()
    env = {**os.environ, "HYBRIDMCP_HOME": str(folder / "home")}
    env.pop(TOKEN_ENV, None)  # 127.0.0.1 with no token: the guard checks Host and Origin
    command = [sys.executable, "-m", WORKSPACE_MODULE, "--root", str(root),
               "--http", "--port", str(port)]  # fmt: skip
    quiet = subprocess.DEVNULL
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=quiet, stderr=quiet), port


async def stateless_call_times(folder: Path) -> tuple[list[float], list[float]]:
    """``read_file`` of our workspace server over HTTP at 2026-07-28: MCPClient vs SDK (ms)."""
    process, port = start_workspace(folder)
    url = f"http://127.0.0.1:{port}/mcp"
    arguments = {"path": "notes.md"}
    through: list[float] = []
    direct: list[float] = []
    try:
        wait_for_port(process, port, "the workspace server", SERVER_START_S)
        client = MCPClient("workspace", RemoteServerConfig.model_validate({"url": url}))
        await client.connect()
        try:
            assert client.stateless and client.protocol_version == "2026-07-28"
            async with Client(url) as sdk:
                assert sdk.protocol_version == "2026-07-28"
                for _ in range(3):  # warm-up
                    assert "Otters" in (await client.call_tool("read_file", arguments)).text
                    await sdk.call_tool("read_file", arguments)
                for _ in range(BLOCKS):
                    started = time.perf_counter()
                    for _ in range(CALLS_PER_BLOCK):
                        await client.call_tool("read_file", arguments)
                    through.append((time.perf_counter() - started) / CALLS_PER_BLOCK * 1000)
                    started = time.perf_counter()
                    for _ in range(CALLS_PER_BLOCK):
                        await sdk.call_tool("read_file", arguments)
                    direct.append((time.perf_counter() - started) / CALLS_PER_BLOCK * 1000)
        finally:
            await client.cleanup()
    finally:
        stop(process)
    return through, direct


async def measure(folder: Path) -> dict[str, float]:
    host_ms, sdk_ms = await call_times(folder)
    stateless_ms, stateless_sdk_ms = await stateless_call_times(folder)
    cache = Path(tempfile.gettempdir()) / "hybridmcp-bench-cache"
    backend = await LlamaCppBackend.open(SMOLLM2.locate(cache), InferenceSettings(n_ctx=2048))
    try:
        sampled_ms, direct_ms = await sampling_times(folder, backend)
    finally:
        await backend.close()
    one: list[float] = []
    five: list[float] = []
    for _ in range(START_RUNS):
        one.append(await start_time(folder, 1))
        five.append(await start_time(folder, 5))
    return {
        "call_ms_host": median(host_ms),
        "call_ms_sdk": median(sdk_ms),
        "stateless_call_ms": median(stateless_ms),
        "stateless_call_ms_sdk": median(stateless_sdk_ms),
        "start1_s": median(one),
        "start5_s": median(five),
        "sampling_ms_round_trip": median(sampled_ms),
        "sampling_ms_direct": median(direct_ms),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hybridmcp-bench-mcp-") as folder:
        results = asyncio.run(measure(Path(folder)))
    call_ratio = results["call_ms_host"] / results["call_ms_sdk"]
    start_ratio = results["start5_s"] / results["start1_s"]
    sampling_ratio = results["sampling_ms_round_trip"] / results["sampling_ms_direct"]
    stateless_ratio = results["stateless_call_ms"] / results["stateless_call_ms_sdk"]
    print_table(
        f"MCP host vs SDK: medians of {BLOCKS} blocks of {CALLS_PER_BLOCK} calls; "
        f"start medians of {START_RUNS}",
        [
            ["echo call through the host (ms)", f"{results['call_ms_host']:.3f}"],
            ["echo call through the SDK client (ms)", f"{results['call_ms_sdk']:.3f}"],
            [
                "2026 stateless HTTP call through MCPClient (ms)",
                f"{results['stateless_call_ms']:.3f}",
            ],
            [
                "2026 stateless HTTP call through the SDK client (ms)",
                f"{results['stateless_call_ms_sdk']:.3f}",
            ],
            ["start 1 server to ready (s)", f"{results['start1_s']:.3f}"],
            ["start 5 servers in parallel to ready (s)", f"{results['start5_s']:.3f}"],
            [
                "sampling: server -> local model -> server (ms)",
                f"{results['sampling_ms_round_trip']:.1f}",
            ],
            ["sampling: direct local completion (ms)", f"{results['sampling_ms_direct']:.1f}"],
        ],
        ["measure", "value"],
    )
    verdict = "met" if call_ratio <= 1.2 else "NOT met"
    print(f"call ratio host/SDK = {call_ratio:.3f} (target <= 1.2: {verdict}); "
          f"start 5 / start 1 = {start_ratio:.2f}")  # fmt: skip
    print(f"stateless call ratio MCPClient/SDK = {stateless_ratio:.3f}")
    verdict = "met" if sampling_ratio <= 1.2 else "NOT met"
    print(f"sampling ratio round trip/direct = {sampling_ratio:.3f} (target <= 1.2: {verdict})")
    emit(
        "mcp_host",
        {
            **results,
            "call_ratio": call_ratio,
            "start5_vs_start1_ratio": start_ratio,
            "sampling_ratio": sampling_ratio,
            "stateless_call_ratio": stateless_ratio,
        },
        notes="echo tool of the project's test MCP server over stdio; host = McpRegistry.call "
        "via ServerSupervisor/MCPClient, SDK = mcp.Client.call_tool on its own connection; "
        "start = McpHost.start until every server is ready (Python interpreter start-up "
        "included); stateless = read_file of our workspace server over Streamable HTTP at "
        "2026-07-28, MCPClient vs mcp.Client; sampling = a tool call of the sampling server "
        "through MCPClient, whose HostRequests hand the request to McpSampler (SmolLM2, greedy, "
        "16 tokens) vs backend.complete of the same messages",
    )


if __name__ == "__main__":
    main()
