"""One suite over local disk, memory, AWS S3 (moto in server mode), Azure Blob (Azurite) and
Google Cloud Storage (gcp-storage-emulator), all on 127.0.0.1: the storage server's service
round-trips bytes exactly, lists by prefix, streams a 50 MB object across mounts (S3 → Azure →
GCS too), and turns missing buckets, wrong credentials, traversal and oversized reads into clear
errors."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from hybridmcp_app.datastores.object_storage import Mount, ObjectStorage, StorageError
from hybridmcp_app.datastores.storage_uploads import UploadSessions
from tests.helpers.azurite import azurite, connection_string
from tests.helpers.gcs_emulator import gcs_emulator, gcs_options
from tests.helpers.moto_s3 import CREDENTIALS, moto_s3
from tests.helpers.npm_packages import NpmUnavailable

pytestmark = pytest.mark.integration
LIMIT = 1024 * 1024  # reads and writes through the tools; copies stream past it


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with moto_s3() as url:
            yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def s3_mount(name: str, endpoint: str, bucket: str | None = None) -> Mount:
    bucket = bucket or f"bucket-{uuid.uuid4().hex[:8]}"
    options = {"endpoint_url": endpoint}
    fsspec.filesystem("s3", **options).mkdir(bucket)
    return Mount(name=name, url=f"s3://{bucket}/data", options=options)


@pytest.fixture(scope="module")
def azure_port() -> Iterator[int]:
    try:
        with azurite() as port:
            yield port
    except NpmUnavailable as missing:
        pytest.skip(str(missing))


def azure_mount(name: str, port: int) -> Mount:
    container = f"container-{uuid.uuid4().hex[:8]}"
    options = {"connection_string": connection_string(port)}
    fsspec.filesystem("az", **options).mkdir(container)
    return Mount(name=name, url=f"az://{container}/data", options=options)


@pytest.fixture(scope="module")
def gcs_endpoint() -> Iterator[str]:
    with gcs_emulator() as url:
        yield url


def gcs_mount(name: str, endpoint: str) -> Mount:
    bucket = f"bucket-{uuid.uuid4().hex[:8]}"
    options = gcs_options(endpoint)
    fsspec.filesystem("gs", **options).mkdir(bucket)
    return Mount(name=name, url=f"gs://{bucket}/data", options=options)


@pytest.fixture(params=["file", "memory", "s3", "azure", "gcs"])
def mount(request: pytest.FixtureRequest, tmp_path: Path) -> Mount:
    if request.param == "gcs":
        return gcs_mount("here", request.getfixturevalue("gcs_endpoint"))
    if request.param == "azure":
        return azure_mount("here", request.getfixturevalue("azure_port"))
    if request.param == "file":
        (tmp_path / "disk").mkdir()
        return Mount(name="here", url=(tmp_path / "disk").as_uri())
    if request.param == "memory":
        return Mount(name="here", url=f"memory://{uuid.uuid4().hex}")
    return s3_mount("here", request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def storage(mount: Mount) -> ObjectStorage:
    return ObjectStorage([mount], max_read_bytes=LIMIT, max_write_bytes=LIMIT)


async def test_bytes_round_trip_exactly_and_listing_follows_prefixes(
    storage: ObjectStorage,
) -> None:
    data = os.urandom(4096) + "é\x00\r\n".encode()
    assert await storage.write_bytes("here:reports/2026/q1.bin", data) == len(data)
    await storage.write_bytes("here:reports/2026/q2.txt", b"second")
    await storage.write_bytes("here:notes.txt", b"top")

    assert await storage.read_bytes("here:reports/2026/q1.bin") == data
    top = sorted((entry.path, entry.kind) for entry in await storage.list("here:"))
    assert top == [("here:notes.txt", "file"), ("here:reports", "directory")]
    inner = await storage.list("here:reports/2026")
    assert sorted(entry.path for entry in inner) == ["here:reports/2026/q1.bin",
                                                     "here:reports/2026/q2.txt"]  # fmt: skip
    assert (await storage.stat("here:reports/2026/q2.txt")).size == 6
    await storage.delete("here:notes.txt")
    with pytest.raises(StorageError, match=r"here:notes\.txt: not found"):
        await storage.read_bytes("here:notes.txt")


async def test_a_50_mb_object_streams_across_mounts_past_the_read_limit(
    storage: ObjectStorage, tmp_path: Path, mount: Mount
) -> None:
    source = tmp_path / "big.bin"
    block = os.urandom(1024 * 1024)
    with source.open("wb") as out:
        for _ in range(50):
            out.write(block)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    both = ObjectStorage([Mount(name="local", url=tmp_path.as_uri()), mount],
                         max_read_bytes=LIMIT)  # fmt: skip

    assert await both.copy("local:big.bin", "here:copies/big.bin") == 50 * 1024 * 1024
    assert await both.copy("here:copies/big.bin", "local:back.bin", move=True) == 50 * 2**20

    assert hashlib.sha256((tmp_path / "back.bin").read_bytes()).hexdigest() == digest
    with pytest.raises(StorageError, match="reads are limited to 1,048,576"):
        await both.read_bytes("local:back.bin")
    with pytest.raises(StorageError, match="not found"):
        await both.stat("here:copies/big.bin")  # moved away


async def test_a_large_object_goes_up_in_parts_and_comes_back_in_ranges(
    storage: ObjectStorage, tmp_path: Path, mount: Mount
) -> None:
    data = os.urandom(6 * LIMIT + 12_345)
    uploads = UploadSessions(storage)
    upload_id = await uploads.begin("here:big/object.bin")
    for offset in range(0, len(data), LIMIT):
        assert await uploads.append(upload_id, data[offset : offset + LIMIT], offset) == min(
            offset + LIMIT, len(data)
        )
        with pytest.raises(StorageError, match="not found"):
            await storage.stat("here:big/object.bin")  # nothing shows before the finish
    with pytest.raises(StorageError, match=r"starts at byte 0 but 6,303,801 bytes .*sent twice"):
        await uploads.append(upload_id, data[:10], 0)  # a repeated part
    with pytest.raises(StorageError, match="parts are limited to 1,048,576"):
        await uploads.append(upload_id, b"x" * (LIMIT + 1), len(data))
    assert await uploads.finish(upload_id) == ("here:big/object.bin", len(data))

    assert (await storage.stat("here:big/object.bin")).size == len(data)
    middle = await storage.read_range("here:big/object.bin", 3 * LIMIT + 7, 1000)
    assert (middle.data, middle.size) == (data[3 * LIMIT + 7 : 3 * LIMIT + 1007], len(data))
    tail = await storage.read_range("here:big/object.bin", len(data) - 500)
    assert tail.data == data[-500:]
    with pytest.raises(StorageError, match=r"a read returns at most 1,048,576: read it in parts"):
        await storage.read_range("here:big/object.bin")
    with pytest.raises(StorageError, match="past its end"):
        await storage.read_range("here:big/object.bin", len(data) + 1)
    with pytest.raises(StorageError, match="no open upload"):
        await uploads.append(upload_id, b"late", len(data))


async def test_an_aborted_upload_leaves_nothing_behind(
    storage: ObjectStorage, mount: Mount, tmp_path: Path
) -> None:
    await storage.write_bytes("here:kept.txt", b"before")
    uploads = UploadSessions(storage)
    upload_id = await uploads.begin("here:kept.txt")
    await uploads.append(upload_id, b"half of a new version", 0)
    await uploads.abort(upload_id)

    assert await storage.read_bytes("here:kept.txt") == b"before"
    assert [entry.path for entry in await storage.list("here:")] == ["here:kept.txt"]
    if mount.url.startswith("file:"):
        assert sorted(path.name for path in (tmp_path / "disk").iterdir()) == ["kept.txt"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("here:../outside.txt", "'..' and absolute paths are not allowed"),
        ("here:/etc/passwd", "'..' and absolute paths are not allowed"),
        ("there:file.txt", "no mount 'there' (mounts: here)"),
        ("no-colon", "write paths as mount:relative/path"),
    ],
)
async def test_paths_stay_inside_their_mount(
    storage: ObjectStorage, path: str, message: str
) -> None:
    with pytest.raises(StorageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await storage.read_bytes(path)


async def test_oversized_writes_and_deleting_the_root_are_refused(storage: ObjectStorage) -> None:
    with pytest.raises(StorageError, match="writes are limited to 1,048,576"):
        await storage.write_bytes("here:big", b"x" * (LIMIT + 1))
    with pytest.raises(StorageError, match="is the mount's root"):
        await storage.delete("here:", recursive=True)


@pytest.mark.parametrize("cloud", ["s3", "azure", "gcs"])
async def test_a_missing_bucket_is_a_clear_error(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    if cloud == "s3":
        options: dict[str, Any] = {"endpoint_url": request.getfixturevalue("s3_endpoint")}
    elif cloud == "azure":
        options = {"connection_string": connection_string(request.getfixturevalue("azure_port"))}
    else:
        options = gcs_options(request.getfixturevalue("gcs_endpoint"))
    scheme = {"s3": "s3", "azure": "az", "gcs": "gs"}[cloud]
    storage = ObjectStorage([Mount(name="gone", url=f"{scheme}://no-such-bucket-here/x",
                                   options=options)])  # fmt: skip
    with pytest.raises(StorageError, match=r"gone:a\.txt: not found"):
        await storage.read_bytes("gone:a.txt")
    with pytest.raises(StorageError, match=r"gone:a\.txt: "):
        await storage.write_bytes("gone:a.txt", b"x")  # no bucket is made on the way
    with pytest.raises(StorageError, match=r"gone:a\.txt: not found"):
        await storage.stat("gone:a.txt")


async def test_wrong_s3_credentials_are_refused_clearly() -> None:
    with moto_s3(check_credentials=True) as endpoint:
        options = {"endpoint_url": endpoint, "key": "AKIAWRONG", "secret": "wrong-secret-value"}
        storage = ObjectStorage([Mount(name="aws", url="s3://reports", options=options)])
        with pytest.raises(StorageError, match=r"aws:a\.txt: access denied \(The AWS Access "
                           "Key Id you provided does not exist") as refused:  # fmt: skip
            await storage.write_bytes("aws:a.txt", b"x")
    assert "wrong-secret-value" not in str(refused.value)


async def test_s3_signs_urls_and_local_disk_says_it_cannot(
    s3_endpoint: str, tmp_path: Path
) -> None:
    storage = ObjectStorage([s3_mount("cloud", s3_endpoint),
                             Mount(name="disk", url=tmp_path.as_uri())])  # fmt: skip
    await storage.write_bytes("cloud:shared.txt", b"hello")
    url = await storage.presign("cloud:shared.txt", 600)
    assert url.startswith(s3_endpoint) and "Signature" in url
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(StorageError, match="file mounts cannot make signed URLs"):
        await storage.presign("disk:f.txt")


async def test_wrong_azure_credentials_are_refused_clearly(azure_port: int) -> None:
    good = azure_mount("good", azure_port)
    container = good.url.removeprefix("az://").split("/")[0]
    wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    options = {"connection_string": connection_string(azure_port, wrong_key)}
    wrong = Mount(name="wrong", url=f"az://{container}/data", options=options)
    storage = ObjectStorage([wrong])
    with pytest.raises(StorageError, match=r"wrong:a\.txt: .*failed to authenticate") as refused:
        await storage.write_bytes("wrong:a.txt", b"x")
    assert wrong_key not in str(refused.value)


async def test_a_cross_cloud_copy_s3_to_azure_to_gcs(
    s3_endpoint: str, azure_port: int, gcs_endpoint: str
) -> None:
    storage = ObjectStorage([s3_mount("aws", s3_endpoint), azure_mount("azure", azure_port),
                             gcs_mount("gcp", gcs_endpoint)])  # fmt: skip
    data = os.urandom(300_000)
    await storage.write_bytes("aws:in/object.bin", data)
    assert await storage.copy("aws:in/object.bin", "azure:out/object.bin") == len(data)
    assert await storage.copy("azure:out/object.bin", "gcp:out/object.bin") == len(data)
    assert await storage.read_bytes("gcp:out/object.bin") == data
