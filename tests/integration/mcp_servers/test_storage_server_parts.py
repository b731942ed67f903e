"""The storage server's large-object tools, mounts from HybridMCP's settings, and
``index_into_library``: in memory with the SDK, and as a stdio subprocess that reads its mounts
from a settings file and its credentials from a keychain, and indexes objects from S3 (moto)
into the library that the app (this process) owns and shares."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app import APP_NAME
from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.server_token import TOKEN_SECRET_NAME
from hybridmcp_app.config.settings import DocumentsSettings, Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.config.storage_settings import StorageMountSettings, StorageSettings
from hybridmcp_app.datastores.object_storage import Mount, ObjectStorage
from hybridmcp_app.datastores.storage_uploads import UploadSessions
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.documents.library_catalog import LibraryCatalog
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.mcp_servers.documents_sharing import read_endpoint, share_library
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from hybridmcp_app.mcp_servers.storage import LibraryTarget, StorageServer
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION
from tests.helpers.file_keyring import keyring_env
from tests.helpers.mcp_results import assert_refused, structured_of, text_of
from tests.helpers.moto_s3 import moto_s3
from tests.helpers.waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
MODULE = "hybridmcp_app.mcp_servers.storage"
PART = 256 * 1024
SHARING_TOKEN = "storage-test-sharing-token-0123456789"


async def upload(client: Client, path: str, data: bytes) -> dict[str, Any]:
    upload_id = structured_of(await client.call_tool("upload_begin", {"path": path}))["upload_id"]
    for offset in range(0, len(data), PART):
        part = base64.b64encode(data[offset : offset + PART]).decode()
        arguments = {"upload_id": upload_id, "content": part, "offset": offset}
        assert structured_of(await client.call_tool("upload_part", arguments))["written"] == min(
            offset + PART, len(data)
        )
    return structured_of(await client.call_tool("upload_finish", {"upload_id": upload_id}))


async def read_in_parts(client: Client, path: str) -> bytes:
    parts, offset, size = [], 0, None
    while size is None or offset < size:
        arguments = {"path": path, "offset": offset, "length": PART}
        got = structured_of(await client.call_tool("read_bytes", arguments))
        parts.append(base64.b64decode(got["base64"]))
        offset, size = offset + got["bytes"], got["size"]
    return b"".join(parts)


async def test_in_memory_a_large_object_goes_up_in_parts_and_comes_back_in_ranges(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    storage = ObjectStorage([Mount(name="disk", url=disk.as_uri())],
                            max_read_bytes=PART, max_write_bytes=PART)  # fmt: skip
    data = os.urandom(5 * PART + 999)
    server = StorageServer(storage, uploads=UploadSessions(storage, part_wait_s=0.5))
    async with Client(server.build()) as client:
        assert await upload(client, "disk:big/blob.bin", data) == {
            "path": "disk:big/blob.bin", "bytes": len(data)
        }  # fmt: skip
        whole = await client.call_tool("read_bytes", {"path": "disk:big/blob.bin"})
        back = await read_in_parts(client, "disk:big/blob.bin")
        summary = await client.call_tool("read_bytes", {"path": "disk:big/blob.bin",
                                                        "offset": 10, "length": 5})  # fmt: skip
        started = structured_of(await client.call_tool("upload_begin", {"path": "disk:other.bin"}))
        out_of_order = {"upload_id": started["upload_id"], "content": "AAAA", "offset": 3}
        skipped = await client.call_tool("upload_part", out_of_order)
        unknown = await client.call_tool("upload_finish", {"upload_id": "0" * 16})
        await client.call_tool("upload_abort", {"upload_id": started["upload_id"]})

    assert back == data and (disk / "big" / "blob.bin").read_bytes() == data
    assert_refused(whole, "a read returns at most 262,144: read it in parts")
    assert (
        text_of(summary) == "5 bytes of disk:big/blob.bin from offset 10 (of 1,311,719), "
        "base64 in the structured result"
    )
    assert_refused(skipped, "starts at byte 3 but only 0 bytes have been written, and the part "
                   "before it did not come within 0.5 s")  # fmt: skip
    assert_refused(unknown, "no open upload '0000000000000000'")
    assert sorted(path.name for path in disk.iterdir()) == ["big"]  # no partial files left


# ---------------------------------------------------------------- into the library


def reports(root: Path) -> Path:
    """Two documents (one holding FACT), a binary the library does not index, and a nested
    note."""
    (root / "reports" / "2026").mkdir(parents=True)
    (root / "reports" / "keeper.txt").write_text(f"Notes from the lighthouse.\n\n{FACT}\n")
    (root / "reports" / "2026" / "budget.md").write_text("# Budget\n\nPaint and lamp oil.\n")
    (root / "reports" / "photo.bin").write_bytes(os.urandom(2048))
    return root


async def test_in_memory_objects_are_indexed_into_the_library_and_found(
    tmp_path: Path, library: LibraryService
) -> None:
    source = reports(tmp_path / "bucket")
    catalog = LibraryCatalog(library)

    async def opened() -> LibraryCatalog:
        return catalog

    target = LibraryTarget(tmp_path / "imports", DocumentsSettings().extensions, opened)
    storage = ObjectStorage([Mount(name="cloud", url=source.as_uri())])
    async with Client(StorageServer(storage, target).build()) as client:
        first = structured_of(
            await client.call_tool("index_into_library", {"path": "cloud:reports"})
        )
        again = structured_of(
            await client.call_tool("index_into_library", {"path": "cloud:reports"})
        )
        missing = await client.call_tool("index_into_library", {"path": "cloud:nothing-here"})
    hits = await library.search(FACT_QUESTION, 1)

    assert (first["fetched"]["downloaded"], first["fetched"]["unchanged"]) == (2, 0)
    assert first["fetched"]["left_out"] == [
        "cloud:reports/photo.bin: not a kind of file the library indexes"
    ]
    assert (first["library"]["indexed"], first["library"]["failed"]) == (2, 0)
    assert (again["fetched"]["downloaded"], again["fetched"]["unchanged"]) == (0, 2)
    assert again["library"]["unchanged"] == 2
    assert_refused(missing, "cloud:nothing-here: not found")
    mirrored = tmp_path / "imports" / "cloud" / "reports" / "keeper.txt"
    assert Path(hits[0].provenance.path) == mirrored and FACT in hits[0].text


# ---------------------------------------------------------------- as a subprocess, from settings


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    with moto_s3() as url:
        yield url


def s3_bucket(endpoint: str, files: dict[str, bytes]) -> str:
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    filesystem = fsspec.filesystem("s3", endpoint_url=endpoint, key="id", secret="shh")
    filesystem.mkdir(bucket)
    for name, data in files.items():
        filesystem.pipe_file(f"{bucket}/{name}", data)
    return bucket


async def test_uploads_left_open_when_the_client_goes_leave_nothing_behind(
    tmp_path: Path, s3: str
) -> None:
    bucket = s3_bucket(s3, {})
    (tmp_path / "disk").mkdir()
    storage = ObjectStorage([Mount(name="disk", url=(tmp_path / "disk").as_uri()),
                             Mount(name="aws", url=f"s3://{bucket}",
                                   options={"endpoint_url": s3, "key": "id", "secret": "shh"})],
                            max_write_bytes=PART)  # fmt: skip
    async with Client(StorageServer(storage).build()) as client:
        for path in ("disk:half.bin", "aws:half.bin"):
            upload_id = structured_of(await client.call_tool("upload_begin", {"path": path}))
            part = {"upload_id": upload_id["upload_id"], "offset": 0,
                    "content": base64.b64encode(b"first part only").decode()}  # fmt: skip
            structured_of(await client.call_tool("upload_part", part))
    gc.collect()  # a writer collected unclosed would complete its object

    filesystem = fsspec.filesystem("s3", endpoint_url=s3, key="id", secret="shh")
    assert filesystem.ls(bucket, refresh=True) == []
    assert list((tmp_path / "disk").iterdir()) == []


async def test_mounts_come_from_settings_and_credentials_from_the_keychain(
    tmp_path: Path, s3: str, library: LibraryService
) -> None:
    """The app's settings name an S3 mount whose key and secret are keychain entries, and a
    second mount whose secret was never stored; the app owns the library and shares it."""
    bucket = s3_bucket(s3, {"reports/keeper.txt": f"Harbour log.\n\n{FACT}\n".encode()})
    paths = AppPaths.under(tmp_path / "home").ensure()
    credentials = {"key": "aws-key-id", "secret": "aws-secret"}
    aws = StorageMountSettings(name="aws", url=f"s3://{bucket}", options={"endpoint_url": s3},
                               credentials=credentials)  # fmt: skip
    broken = StorageMountSettings(name="broken", url=f"s3://{bucket}",
                                  options={"endpoint_url": s3},
                                  credentials={"secret": "never-stored"})  # fmt: skip
    SettingsStore(paths).save(Settings(storage=StorageSettings(mounts=(aws, broken))))
    keychain = tmp_path / "keychain.json"
    keychain.write_text(json.dumps({f"{APP_NAME}/aws-key-id": "id",
                                    f"{APP_NAME}/aws-secret": "moto-secret-value",
                                    f"{APP_NAME}/{TOKEN_SECRET_NAME}": SHARING_TOKEN}))  # fmt: skip
    app_library = await LibraryService.open(DocumentsSettings(), paths.data_dir, OnnxEmbedder())
    source = AppLibrarySource()
    source.opened(app_library, None)
    sharing = asyncio.create_task(
        share_library(DocumentsServer(source), paths.data_dir, SHARING_TOKEN)
    )
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") and key != TOKEN_ENV}  # fmt: skip
    env |= {HOME_ENV_VAR: str(paths.data_dir.parent)} | keyring_env(keychain)
    parameters = StdioServerParameters(command=sys.executable, args=["-m", MODULE],
                                       cwd=REPO, env=env)  # fmt: skip
    try:
        await wait_until(lambda: read_endpoint(paths.data_dir) is not None)
        async with asyncio.timeout(PATIENCE_S), Client(parameters) as client:
            mounts = structured_of(await client.call_tool("mounts", {}))["mounts"]
            listed = structured_of(await client.call_tool("list", {"path": "aws:reports"}))
            refused = await client.call_tool("list", {"path": "broken:"})
            keeper = {"path": "aws:reports/keeper.txt"}
            indexed = structured_of(await client.call_tool("index_into_library", keeper))
        hits = await app_library.search(FACT_QUESTION, 1)
    finally:
        sharing.cancel()
        await asyncio.gather(sharing, return_exceptions=True)
        await app_library.close()

    assert (mounts[0]["name"], mounts[0]["unavailable"]) == ("aws", None)
    assert "the keychain has no secret 'never-stored'" in mounts[1]["unavailable"]
    assert [entry["path"] for entry in listed["entries"]] == ["aws:reports/keeper.txt"]
    assert_refused(refused, "mount 'broken': the keychain has no secret 'never-stored'")
    assert indexed["library"]["indexed"] == 1  # into the app's library, through its sharing
    assert FACT in hits[0].text
    settings_text = SettingsStore(paths).path.read_text()
    assert "aws-secret" in settings_text and "moto-secret-value" not in settings_text
