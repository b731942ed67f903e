"""The storage MCP server over local disk and S3 (moto): in memory with the SDK (a cross-cloud
copy included), as a stdio subprocess, over Streamable HTTP and through the MCP Inspector."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app.datastores.object_storage import Mount, ObjectStorage
from hybridmcp_app.mcp_servers.storage import StorageServer
from tests.helpers.llama_server import free_port
from tests.helpers.mcp_http import http_server
from tests.helpers.mcp_inspector import InspectorCli
from tests.helpers.mcp_results import assert_refused, structured_of
from tests.helpers.moto_s3 import CREDENTIALS, moto_s3
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
MODULE = "hybridmcp_app.mcp_servers.storage"
TOOLS = {  # name: (readOnlyHint, destructiveHint, idempotentHint)
    "mounts": (True, False, True),
    "list": (True, False, True),
    "stat": (True, False, True),
    "read_text": (True, False, True),
    "read_bytes": (True, False, True),
    "write": (False, True, True),
    "delete": (False, True, True),
    "copy": (False, True, True),
    "move": (False, True, False),
    "presign": (True, False, True),
    "upload_begin": (False, True, True),
    "upload_part": (False, False, False),
    "upload_finish": (False, True, True),
    "upload_abort": (False, False, True),
    "index_into_library": (False, False, True),
}


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    with moto_s3() as url:
        yield url


def new_bucket(endpoint: str) -> str:
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    key, secret = CREDENTIALS.values()
    fsspec.filesystem("s3", endpoint_url=endpoint, key=key, secret=secret).mkdir(bucket)
    return bucket


async def cross_cloud(client: Client, local: Path) -> None:
    """Write on disk, copy to S3, read back there, move home again, and refuse what it must."""
    data = bytes(range(256)) * 40
    written = await client.call_tool("write", {"path": "disk:in/data.bin",
                                               "content": base64.b64encode(data).decode(),
                                               "encoding": "base64"})  # fmt: skip
    assert structured_of(written)["bytes"] == len(data)
    copied = structured_of(await client.call_tool("copy", {"source": "disk:in/data.bin",
                                                     "target": "cloud:out/data.bin"}))  # fmt: skip
    assert copied["bytes"] == len(data)
    read = structured_of(await client.call_tool("read_bytes", {"path": "cloud:out/data.bin"}))
    assert base64.b64decode(read["base64"]) == data
    listed = structured_of(await client.call_tool("list", {"path": "cloud:out"}))
    assert [entry["path"] for entry in listed["entries"]] == ["cloud:out/data.bin"]
    signed = structured_of(await client.call_tool("presign", {"path": "cloud:out/data.bin"}))
    assert "Signature" in signed["url"]
    moved = await client.call_tool("move", {"source": "cloud:out/data.bin",
                                            "target": "disk:back/data.bin"})  # fmt: skip
    assert structured_of(moved)["bytes"] == len(data)
    assert (local / "back" / "data.bin").read_bytes() == data
    for tool, arguments, fragment in [
        ("read_text", {"path": "disk:../secret"}, "'..' and absolute paths are not allowed"),
        ("read_text", {"path": "cloud:out/data.bin"}, "not found"),
        ("read_text", {"path": "elsewhere:x"}, "no mount 'elsewhere'"),
        ("write", {"path": "disk:x", "content": "%%%", "encoding": "base64"}, "not valid base64"),
        ("presign", {"path": "disk:back/data.bin"}, "file mounts cannot make signed URLs"),
    ]:
        assert_refused(await client.call_tool(tool, arguments), fragment)


@pytest.fixture
def local(tmp_path: Path) -> Path:
    (tmp_path / "disk").mkdir()
    return tmp_path / "disk"


async def test_in_memory_a_cross_cloud_round_trip(
    s3: str, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    bucket = new_bucket(s3)
    storage = ObjectStorage([
        Mount(name="disk", url=local.as_uri()),
        Mount(name="cloud", url=f"s3://{bucket}", options={"endpoint_url": s3}),
    ])  # fmt: skip
    async with Client(StorageServer(storage).build()) as client:
        tools = (await client.list_tools()).tools
        await cross_cloud(client, local)
    hints = {
        tool.name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
        for tool in tools
        if (a := tool.annotations) is not None
    }
    assert hints == TOOLS


def server_args(local: Path, s3: str, bucket: str) -> list[str]:
    return ["--mount", f"disk={local.as_uri()}", "--mount", f"cloud=s3://{bucket}",
            "--option", f"cloud.endpoint_url={s3}"]  # fmt: skip


async def test_as_a_subprocess_over_stdio(s3: str, local: Path) -> None:
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", MODULE, *server_args(local, s3, new_bucket(s3))],
        cwd=REPO, env={**os.environ, **CREDENTIALS},
    )  # fmt: skip
    async with asyncio.timeout(PATIENCE_S), Client(parameters) as client:
        await cross_cloud(client, local)


async def test_over_http_on_localhost(s3: str, local: Path) -> None:
    arguments = [MODULE, *server_args(local, s3, new_bucket(s3))]
    with http_server(arguments, free_port(), {**os.environ, **CREDENTIALS}, REPO) as url:
        async with asyncio.timeout(PATIENCE_S), Client(url) as client:
            await cross_cloud(client, local)


def test_the_inspector_lists_the_tools_and_writes(inspector_script: Path, local: Path) -> None:
    command = [sys.executable, "-m", MODULE, "--mount", f"disk={local.as_uri()}"]
    inspector = InspectorCli(inspector_script, command, cwd=REPO)

    tools = inspector.list_tools()
    written = inspector.call_tool("write", path="disk:hello.txt", content="hello")

    assert {tool["name"] for tool in tools} == set(TOOLS)
    assert written["structuredContent"]["bytes"] == 5
    assert (local / "hello.txt").read_text() == "hello"
