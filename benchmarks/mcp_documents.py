"""What the documents MCP server adds to a library search, three ways side by side.

One library (60 generated files, ``library_corpus``), 40 questions asked in turn, alternating:
- direct: ``LibraryCatalog.search`` called in Python (the floor);
- in-process: an SDK client talking to the documents server in memory (what HybridMCP's own
  host does);
- relayed: a documents server started as a stdio subprocess, as Claude Desktop starts it, that
  finds the library owned by "the app" (this process) and relays each request to the app's
  shared endpoint over HTTP on 127.0.0.1 (``documents_sharing``).
Medians in ms, and each way's ratio to direct. No target: the numbers say what MCP and the relay
cost on top of a search (the query embedding and the search are in all three). The relay opens
one HTTP session a request (initialize, call, close), which is most of its cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

from benchmarks.library_corpus import write_library_corpus
from benchmarks.report import emit, median, print_table
from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.documents.library_catalog import LibraryCatalog
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.mcp_servers.documents_sharing import read_endpoint, share_library
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV

QUESTIONS = 40
REPO = Path(__file__).resolve().parents[1]
WORDS = ("budget", "inventory", "survey", "backup", "travel", "migration", "audit", "contract",
         "marketing", "release", "training", "energy", "hiring", "support", "schedule")  # fmt: skip


def questions(count: int) -> list[str]:
    rng = random.Random(3)
    return [f"What was decided about the {rng.choice(WORDS)} and the {rng.choice(WORDS)}?"
            for _ in range(count)]  # fmt: skip


async def timed(call: object) -> float:
    started = time.perf_counter()
    await call  # type: ignore[misc]
    return (time.perf_counter() - started) * 1000


async def run(home: Path) -> dict[str, float]:
    paths = AppPaths.under(home).ensure()
    corpus = write_library_corpus(home / "corpus", files=60)[0].parent
    library = await LibraryService.open(DocumentsSettings(), paths.data_dir, OnnxEmbedder())
    token = "benchmark-token-0123456789abcdefghij"
    source = AppLibrarySource()
    source.opened(library, None)
    sharing = asyncio.create_task(share_library(DocumentsServer(source), paths.data_dir, token))
    env = {**os.environ, HOME_ENV_VAR: str(home), TOKEN_ENV: token}
    stdio = StdioServerParameters(
        command=sys.executable, args=["-m", "hybridmcp_app.mcp_servers.documents"],
        cwd=REPO, env=env,
    )  # fmt: skip
    times: dict[str, list[float]] = {"direct": [], "in_process": [], "relayed": []}
    try:
        report = await library.add([corpus])
        print(f"library: {report.indexed} files, {report.chunks} chunks")
        for _ in range(600):  # the endpoint starts beside the indexing; 30 s at most
            if read_endpoint(paths.data_dir) is not None:
                break
            await asyncio.sleep(0.05)
        catalog = LibraryCatalog(library)
        async with (
            Client(DocumentsServer(source).build()) as in_process,
            Client(stdio) as relayed,
        ):
            for warm in (in_process, relayed):  # start-up and first connection out of the way
                await warm.call_tool("search", {"query": "warm up", "k": 5})
            for question in questions(QUESTIONS):
                arguments = {"query": question, "k": 5}
                times["direct"].append(await timed(catalog.search(question, 5)))
                times["in_process"].append(await timed(in_process.call_tool("search", arguments)))
                times["relayed"].append(await timed(relayed.call_tool("search", arguments)))
    finally:
        sharing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sharing
        await library.close()
    direct = median(times["direct"])
    metrics = {f"search_ms_{way}": median(values) for way, values in times.items()}
    metrics["in_process_vs_direct"] = metrics["search_ms_in_process"] / direct
    metrics["relayed_vs_direct"] = metrics["search_ms_relayed"] / direct
    return metrics


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hybridmcp-bench-docs-") as home:
        started = time.monotonic()
        metrics = asyncio.run(run(Path(home)))
        metrics["wall_s"] = time.monotonic() - started
    print_table(
        "documents server: search, k=5 (median ms of 40, alternating)",
        [
            [
                way,
                f"{metrics[f'search_ms_{way}']:.1f}",
                "1.00" if way == "direct" else f"{metrics[f'{way}_vs_direct']:.2f}",
            ]
            for way in ("direct", "in_process", "relayed")
        ],
        ["way", "ms", "vs direct"],
    )
    emit(
        "mcp_documents",
        metrics,
        notes="LibraryCatalog.search vs the documents MCP server in memory (HybridMCP's host) vs "
        "a stdio documents server relaying to the app's shared endpoint over HTTP (Claude "
        "Desktop while HybridMCP is open); 60 generated files, 40 questions alternating",
    )


if __name__ == "__main__":
    main()
