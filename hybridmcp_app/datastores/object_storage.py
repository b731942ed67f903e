"""``ObjectStorage``: files and objects on named mounts, any fsspec backend, one interface.

A mount is a name for a URL and its options: ``file:///srv/shared`` (the default kind),
``memory://scratch``, ``s3://bucket/prefix`` (AWS S3 and S3-compatible: MinIO, R2, Ceph — with
``endpoint_url``), ``az://container/prefix`` (Azure Blob / ADLS, adlfs), ``gs://bucket/prefix``
(GCS, gcsfs). Paths are ``mount:relative/path``; a path never leaves its mount (``..`` and
absolute paths are refused). Reads and writes are size-limited; copies and moves between mounts
stream in blocks, so a 50 MB object never sits in memory whole. Every failure is a
``StorageError`` that names the mount and says what went wrong (a missing bucket, refused
credentials, an object too large), never the backend's traceback.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import fsspec
from fsspec.implementations.local import LocalFileSystem
from pydantic import Field

from hybridmcp_app.config.storage_settings import MOUNT_NAME_PATTERN as MOUNT_PATTERN
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel

T = TypeVar("T")
BLOCK_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_READ = 10 * 1024 * 1024
DEFAULT_MAX_WRITE = 10 * 1024 * 1024


class StorageError(HybridMCPError):
    """A refused or failed storage request, said plainly."""


class Mount(FrozenModel):
    """A name for a storage URL; ``options`` go to the fsspec filesystem (endpoint_url, …)."""

    name: str = Field(pattern=MOUNT_PATTERN)
    url: str = Field(min_length=1, description="file:///dir, memory://x, s3://b/p, az://c/p, …")
    options: dict[str, Any] = Field(default_factory=dict, repr=False)  # may hold credentials
    unavailable: str | None = Field(
        None, description="Why the mount cannot be used (e.g. a credential missing)."
    )


class Entry(FrozenModel):
    path: str = Field(description="mount:relative/path")
    kind: str = Field(description="file or directory")
    size: int | None = None
    modified: str | None = None


class Ranged(FrozenModel):
    """Part of an object: its bytes, where they start, and the whole object's size."""

    data: bytes
    offset: int
    size: int


class ObjectStorage:
    """The mounts' filesystems, opened at first use; blocking calls run off the event loop."""

    def __init__(
        self,
        mounts: list[Mount],
        *,
        max_read_bytes: int = DEFAULT_MAX_READ,
        max_write_bytes: int = DEFAULT_MAX_WRITE,
    ) -> None:
        if not mounts:
            raise StorageError("no mounts: give at least one (name=URL)")
        self.mounts = {mount.name: mount for mount in mounts}
        if len(self.mounts) < len(mounts):
            raise StorageError("two mounts have the same name")
        self.max_read_bytes, self.max_write_bytes = max_read_bytes, max_write_bytes
        self._filesystems: dict[str, tuple[Any, str]] = {}

    # ---------------------------------------------------------------- resolving paths
    def _mount(self, name: str) -> tuple[Any, str]:
        """The filesystem of a mount and the root path inside it."""
        if name not in self._filesystems:
            mount = self.mounts[name]
            if mount.unavailable:
                raise StorageError(mount.unavailable)
            try:
                filesystem, root = fsspec.url_to_fs(mount.url, **mount.options)
            except (ImportError, ValueError) as error:
                raise StorageError(
                    f"mount {name!r} ({mount.url}) cannot be used: {error}"
                ) from None
            self._filesystems[name] = (filesystem, str(root).rstrip("/"))
        return self._filesystems[name]

    def resolve(self, path: str) -> tuple[Any, str, str]:
        """(filesystem, full path, mount name) for ``mount:relative/path``."""
        name, separator, relative = path.partition(":")
        if not separator or not re.fullmatch(MOUNT_PATTERN, name):
            raise StorageError(f"{path!r}: write paths as mount:relative/path")
        if name not in self.mounts:
            known = ", ".join(sorted(self.mounts))
            raise StorageError(f"no mount {name!r} (mounts: {known})")
        parts = [part for part in relative.replace("\\", "/").split("/") if part not in ("", ".")]
        if ".." in parts or relative.startswith("/"):
            raise StorageError(f"{path!r}: '..' and absolute paths are not allowed")
        filesystem, root = self._mount(name)
        full = posixpath.join(root, *parts) if parts else root
        return filesystem, full, name

    def mount_root(self, name: str) -> str:
        """The path inside the mount's filesystem that ``name:`` stands for."""
        return self._mount(name)[1]

    def _named(self, name: str, full: str) -> str:
        root = self._mount(name)[1]
        relative = full[len(root) :].lstrip("/") if full.startswith(root) else full
        return f"{name}:{relative}"

    # ---------------------------------------------------------------- operations
    async def list(self, path: str, limit: int = 1000) -> list[Entry]:
        filesystem, full, name = self.resolve(path)

        def listing() -> list[Entry]:
            entries = filesystem.ls(full, detail=True)
            return [self._entry(name, info) for info in entries[:limit]]

        return await self.run(listing, path)

    async def stat(self, path: str) -> Entry:
        filesystem, full, name = self.resolve(path)
        return await self.run(lambda: self._entry(name, filesystem.info(full)), path)

    async def read_bytes(self, path: str) -> bytes:
        filesystem, full, _ = self.resolve(path)

        def read() -> bytes:
            size = filesystem.size(full)
            if size is not None and size > self.max_read_bytes:
                raise StorageError(
                    f"{path} is {size:,} bytes; reads are limited to {self.max_read_bytes:,} "
                    "(copy it to another mount instead)"
                )
            data: bytes = filesystem.cat_file(full)
            return data

        return await self.run(read, path)

    async def read_range(self, path: str, offset: int = 0, length: int | None = None) -> Ranged:
        """Up to ``length`` bytes from ``offset`` (default: the rest), at most ``max_read_bytes``
        a call, so an object of any size can be read in parts; a backend range request."""
        filesystem, full, _ = self.resolve(path)
        limit = self.max_read_bytes

        def read() -> Ranged:
            size = int(filesystem.size(full))
            if offset > size:
                raise StorageError(f"{path} is {size:,} bytes; offset {offset:,} is past its end")
            wanted = size - offset if length is None else min(length, size - offset)
            if wanted > limit:
                raise StorageError(
                    f"{path} has {wanted:,} bytes from offset {offset:,}; a read returns at most "
                    f"{limit:,}: read it in parts (offset, length) or copy it to another mount"
                )
            end = offset + wanted  # by keyword: s3fs's third positional is a version id
            data: bytes = filesystem.cat_file(full, start=offset, end=end) if wanted else b""
            return Ranged(data=data, offset=offset, size=size)

        return await self.run(read, path)

    async def write_bytes(self, path: str, data: bytes) -> int:
        if len(data) > self.max_write_bytes:
            raise StorageError(
                f"{len(data):,} bytes to write; writes are limited to {self.max_write_bytes:,}"
            )
        filesystem, full, _ = self.resolve(path)

        def write() -> int:
            make_parent(filesystem, full)
            filesystem.pipe_file(full, data)
            return len(data)

        return await self.run(write, path)

    async def delete(self, path: str, recursive: bool = False) -> None:
        filesystem, full, name = self.resolve(path)
        if full == self._mount(name)[1]:
            raise StorageError(f"{path!r} is the mount's root: delete what is inside instead")
        await self.run(lambda: filesystem.rm(full, recursive=recursive), path)

    async def copy(self, source: str, target: str, *, move: bool = False) -> int:
        """Copy (or move) one object between any two mounts, streamed in blocks."""
        source_fs, source_full, _ = self.resolve(source)
        target_fs, target_full, _ = self.resolve(target)

        def copy() -> int:
            copied = 0
            make_parent(target_fs, target_full)
            with (
                source_fs.open(source_full, "rb") as reader,
                target_fs.open(target_full, "wb") as writer,
            ):
                while block := reader.read(BLOCK_BYTES):
                    writer.write(block)
                    copied += len(block)
            if move:
                source_fs.rm(source_full)
            return copied

        return await self.run(copy, f"{source} → {target}")

    async def presign(self, path: str, expires_s: int = 3600) -> str:
        filesystem, full, name = self.resolve(path)

        def sign() -> str:
            try:
                url: str = filesystem.sign(full, expiration=expires_s)
            except NotImplementedError:
                kind = self.mounts[name].url.split(":", 1)[0]
                raise StorageError(f"{kind} mounts cannot make signed URLs") from None
            return url

        return await self.run(sign, path)

    # ---------------------------------------------------------------- helpers
    def _entry(self, name: str, info: Mapping[str, Any]) -> Entry:
        modified = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
        kind = "directory" if info.get("type") == "directory" else "file"
        return Entry(
            path=self._named(name, str(info["name"]).rstrip("/")),
            kind=kind,
            size=int(info["size"]) if info.get("size") is not None and kind == "file" else None,
            modified=str(modified) if modified is not None else None,
        )

    async def run(self, work: Callable[[], T], what: str) -> T:
        """``work`` in a thread; any backend failure becomes a ``StorageError`` about ``what``."""
        try:
            return await asyncio.to_thread(work)
        except StorageError:
            raise
        except FileNotFoundError:
            raise StorageError(f"{what}: not found") from None
        except IsADirectoryError:
            raise StorageError(f"{what}: is a folder, not a file") from None
        except PermissionError as error:
            raise StorageError(f"{what}: access denied ({_short(error)})") from None
        except Exception as error:  # each backend raises its own kinds
            raise StorageError(f"{what}: {type(error).__name__}: {_short(error)}") from None


def make_parent(filesystem: Any, full: str) -> None:
    """Folders exist on disks only: on an object store makedirs would create a bucket, and a
    write to a missing bucket must fail instead."""
    if isinstance(filesystem, LocalFileSystem):
        filesystem.makedirs(posixpath.dirname(full), exist_ok=True)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def parse_mount(spec: str) -> Mount:
    """``name=URL`` (from the command line)."""
    name, separator, url = spec.partition("=")
    if not separator or not url:
        raise StorageError(f"{spec!r}: give a mount as name=URL, e.g. docs=file:///srv/docs")
    return Mount(name=name, url=url)
