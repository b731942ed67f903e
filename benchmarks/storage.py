"""Reading and writing objects through the storage MCP server versus fsspec directly.

The same S3 endpoint (moto in server mode on 127.0.0.1, as in the tests) is used every way, and
the ways alternate, object by object:
- direct: s3fs in this process — ``pipe_file`` to write, ``cat_file`` to read, whole objects
  in one call (the target's baseline);
- streamed (50 MB): s3fs the way the server talks to the backend — ``open(..., "wb")`` written
  PART_MB at a time (S3 multipart), ranged ``cat_file`` PART_MB at a time (``*_vs_streamed``);
- MCP: an SDK client talking to ``python -m hybridmcp_app.mcp_servers.storage`` over stdio, as
  any MCP client would — a 1 MB object with one ``write`` / ``read_bytes`` call, a 50 MB object
  in parts (``upload_begin`` / ``upload_part`` / ``upload_finish``, ``read_bytes`` with offset
  and length), PART_MB a part, WINDOW parts in flight, base64 in JSON (MCP has no binary
  frames). The client reads the server's output as HybridMCP's host does
  (``stdio_line_reader``); at 50 MB a second session reads with the SDK's own stdio reader too
  (``*_sdk_reader``), which re-splits the whole buffer on every 64 KiB and so slows down with
  the square of a message's size.
Bytes are checked after every read. MB/s are medians; the ratios MCP / direct at 50 MB are the
target (≥ 0.8). ``framing_floor_mb_s_50mb`` is what base64 and JSON alone allow on one core (no
pipes, no backend): when the emulator reads faster than that, no MCP client can reach it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import sys
import time
from collections.abc import Awaitable
from typing import Any

import fsspec
import pydantic_core
from mcp import Client, StdioServerParameters

from benchmarks.report import emit, median, print_table
from hybridmcp_app.mcp_host.stdio_line_reader import use_line_reader
from tests.helpers.moto_s3 import CREDENTIALS, moto_s3

MB = 1024 * 1024
PART_MB = 8
WINDOW = 2  # parts in flight: the next is encoded and sent while the last is handled
SIZES = {"1mb": (1 * MB, 7), "50mb": (50 * MB, 4)}  # key: (bytes, rounds)
BUCKET = "bench"


def payload(size: int, seed: int) -> bytes:
    """Incompressible bytes (a hash chain), different for every object."""
    block = hashlib.sha256(str(seed).encode()).digest() * (MB // 32)
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def structured(result: Any) -> dict[str, Any]:
    if result.is_error:
        raise RuntimeError(result.content[0].text)
    content: dict[str, Any] = result.structured_content
    return content


async def mcp_write(client: Client, path: str, data: bytes) -> None:
    if len(data) <= PART_MB * MB:
        encoded = base64.b64encode(data).decode()
        arguments = {"path": path, "content": encoded, "encoding": "base64"}
        structured(await client.call_tool("write", arguments))
        return
    started = structured(await client.call_tool("upload_begin", {"path": path}))
    upload_id = started["upload_id"]
    window = asyncio.Semaphore(WINDOW)

    async def send(offset: int) -> None:
        async with window:
            part = base64.b64encode(data[offset : offset + PART_MB * MB]).decode()
            arguments = {"upload_id": upload_id, "content": part, "offset": offset}
            structured(await client.call_tool("upload_part", arguments))

    await asyncio.gather(*(send(offset) for offset in range(0, len(data), PART_MB * MB)))
    structured(await client.call_tool("upload_finish", {"upload_id": upload_id}))


async def mcp_read(client: Client, path: str) -> bytes:
    first = structured(await client.call_tool("read_bytes", {"path": path, "offset": 0,
                                                             "length": PART_MB * MB}))  # fmt: skip
    size = first["size"]
    window = asyncio.Semaphore(WINDOW)

    async def fetch(offset: int) -> bytes:
        async with window:
            arguments = {"path": path, "offset": offset, "length": PART_MB * MB}
            got = structured(await client.call_tool("read_bytes", arguments))
            return base64.b64decode(got["base64"])

    rest = await asyncio.gather(*(fetch(offset) for offset in
                                  range(first["bytes"], size, PART_MB * MB)))  # fmt: skip
    return b"".join([base64.b64decode(first["base64"]), *rest])


async def timed(work: Awaitable[object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = await work
    return time.perf_counter() - started, result


def streamed_write(filesystem: Any, path: str, data: bytes) -> None:
    """fsspec's own streaming upload, PART_MB at a time (S3 multipart), as the server does."""
    with filesystem.open(path, "wb", block_size=PART_MB * MB) as writer:
        for offset in range(0, len(data), PART_MB * MB):
            writer.write(data[offset : offset + PART_MB * MB])


def streamed_read(filesystem: Any, path: str) -> bytes:
    """fsspec's ranged reads, PART_MB at a time, as the server does."""
    size = filesystem.size(path)
    parts = [filesystem.cat_file(path, start=offset, end=min(offset + PART_MB * MB, size))
             for offset in range(0, size, PART_MB * MB)]  # fmt: skip
    return b"".join(parts)


class Measured:
    """Seconds per operation and way, and the table rows and metrics made of them."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.metrics: dict[str, float] = {}
        self.rows: list[list[object]] = []

    def add(self, key: str, seconds: float) -> None:
        self.seconds.setdefault(key, []).append(seconds)

    def mb_s(self, key: str, size: int) -> float:
        return size / MB / median(self.seconds[key])

    def compare(self, op: str, label: str, size: int, way: str, baseline: str, ratio: str) -> None:
        through, base = self.mb_s(f"{op}_{way}", size), self.mb_s(f"{op}_{baseline}", size)
        for name, value in ((way, through), (baseline, base)):
            self.metrics[f"{op}_mb_s_{name}_{label}"] = round(value, 1)
        self.metrics[ratio] = round(through / base, 3)
        self.rows.append([f"{op} {label}", way, baseline, f"{base:.1f}", f"{through:.1f}",
                          f"{through / base:.3f}", len(self.seconds[f"{op}_{way}"])])  # fmt: skip


async def one_size(
    label: str, size: int, rounds: int, filesystem: Any, host: Client, sdk: Client
) -> Measured:
    """Alternate the ways object by object (the order flips every round); fsspec's streamed
    ways and the SDK's reader only at 50 MB."""
    measured = Measured()
    large = size > PART_MB * MB
    for round_ in range(rounds):
        data = payload(size, round_)
        writers = ["direct", "host", *(["streamed"] if large else [])]
        for way in writers if round_ % 2 == 0 else writers[::-1]:
            path = f"{BUCKET}/{way}/{label}-{round_}"
            if way == "direct":
                write = asyncio.to_thread(filesystem.pipe_file, path, data)
            elif way == "streamed":
                write = asyncio.to_thread(streamed_write, filesystem, path, data)
            else:
                write = mcp_write(host, f"s3:{way}/{label}-{round_}", data)
            measured.add(f"write_{way}", (await timed(write))[0])
        readers = ["direct", "host", *(["streamed", "sdk"] if large else [])]
        for way in readers if round_ % 2 else readers[::-1]:
            path = f"{BUCKET}/direct/{label}-{round_}"
            if way == "direct":
                read = asyncio.to_thread(filesystem.cat_file, path)
            elif way == "streamed":
                read = asyncio.to_thread(streamed_read, filesystem, path)
            else:
                read = mcp_read(host if way == "host" else sdk, f"s3:direct/{label}-{round_}")
            seconds, got = await timed(read)
            if got != data:
                raise AssertionError(f"{way} read of a {label} object returned other bytes")
            measured.add(f"read_{way}", seconds)
    for op in ("write", "read"):
        measured.compare(op, label, size, "host", "direct", f"{op}_ratio_{label}")
        if large:
            measured.compare(op, label, size, "host", "streamed",
                             f"{op}_ratio_{label}_vs_streamed")  # fmt: skip
    if large:
        measured.compare("read", label, size, "sdk", "direct", f"read_ratio_{label}_sdk_reader")
    return measured


async def run(endpoint: str) -> tuple[dict[str, float], list[list[object]]]:
    key, secret = CREDENTIALS.values()
    filesystem = fsspec.filesystem("s3", endpoint_url=endpoint, key=key, secret=secret)
    filesystem.mkdir(BUCKET)
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hybridmcp_app.mcp_servers.storage", "--mount", f"s3=s3://{BUCKET}",
              "--option", f"s3.endpoint_url={endpoint}",
              "--max-read-bytes", str(PART_MB * MB), "--max-write-bytes", str(PART_MB * MB)],
        env={**os.environ, **CREDENTIALS},
    )  # fmt: skip
    metrics: dict[str, float] = {}
    rows: list[list[object]] = []
    # The SDK's own stdio reader for one session, HybridMCP's line reader for the other.
    async with Client(server) as sdk:
        use_line_reader()
        async with Client(server) as host:
            for label, (size, rounds) in SIZES.items():
                measured = await one_size(label, size, rounds, filesystem, host, sdk)
                metrics |= measured.metrics
                rows += measured.rows
    return metrics, rows


def framing_floor_mb_s(rounds: int = 3) -> float:
    """MB/s of MCP's framing alone for a 50 MB object, in one process: base64 and JSON out,
    JSON and base64 back (what server and client must do between them, without any I/O)."""
    data = payload(50 * MB, 99)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        line = pydantic_core.to_json({"result": {"base64": base64.b64encode(data).decode()}})
        back = base64.b64decode(pydantic_core.from_json(line)["result"]["base64"])
        times.append(time.perf_counter() - started)
        if back != data:
            raise AssertionError("framing changed the bytes")
    return 50 / median(times)


def main() -> None:
    with moto_s3() as endpoint:
        metrics, rows = asyncio.run(run(endpoint))
    metrics["framing_floor_mb_s_50mb"] = round(framing_floor_mb_s(), 1)
    print(f"MCP framing alone (base64 + JSON, both ways, one core): "
          f"{metrics['framing_floor_mb_s_50mb']} MB/s")  # fmt: skip
    headers = ["object", "way", "against", "against MB/s", "way MB/s", "ratio", "rounds"]
    print_table("storage on S3 (moto, 127.0.0.1): MB/s, medians", rows, headers)
    emit(
        "storage",
        metrics,
        "S3 on moto (127.0.0.1); the storage MCP server over stdio (SDK client reading as "
        f"HybridMCP's host does; 50 MB in {PART_MB} MB base64 parts, {WINDOW} in flight: "
        "upload_* and ranged read_bytes) vs direct s3fs in one call (pipe_file/cat_file: the "
        "target's baseline, >= 0.8 at 50 MB) and vs s3fs streamed the same way (open/write "
        f"{PART_MB} MB blocks, ranged cat_file: *_vs_streamed); sdk_reader = the SDK's own "
        "stdio reader; framing_floor = base64+JSON both ways on one core; alternating; medians; "
        "bytes checked",
    )


if __name__ == "__main__":
    main()
