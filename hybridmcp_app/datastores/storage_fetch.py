"""Bring objects from any mount down to a local folder, streamed, for the document library.

``fetch_to_folder`` mirrors one object, or every object under a folder/prefix, into a local
folder (``mount/relative/path`` beneath it), keeping only the file kinds the library indexes
and stopping at a file-count and a byte budget. Objects whose local copy already has the same
size and is at least as new are not downloaded again. The library then indexes the folder, so a
document keeps a stable local path (for citations and re-indexing) while its source stays in
the cloud.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.datastores.object_storage import BLOCK_BYTES, ObjectStorage

MAX_FILES = 2000
MAX_BYTES = 2 * 1024**3


class Fetched(FrozenModel):
    """What ``fetch_to_folder`` brought down, and what it left where it was."""

    folder: str = Field(description="The local folder the objects were mirrored into.")
    downloaded: int
    unchanged: int = Field(description="Already here from an earlier fetch; not downloaded.")
    bytes: int
    left_out: list[str] = Field(description="Objects not fetched, with why.")


async def fetch_to_folder(
    storage: ObjectStorage,
    path: str,
    folder: Path,
    *,
    extensions: Collection[str],
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """Mirror ``path`` (an object or a folder/prefix) under ``folder / mount``."""
    filesystem, full, name = storage.resolve(path)
    root = storage.mount_root(name)
    wanted = {extension.lower().lstrip(".") for extension in extensions}

    def fetch() -> Fetched:
        listing = _objects_under(filesystem, full)
        downloaded = unchanged = total = 0
        left_out: list[str] = []
        for remote, info in sorted(listing.items()):
            relative = remote[len(root) :].lstrip("/") if remote.startswith(root) else remote
            shown = f"{name}:{relative}"
            extension = posixpath.splitext(remote)[1].lower().lstrip(".")
            size = int(info.get("size") or 0)
            if extension not in wanted:
                left_out.append(f"{shown}: not a kind of file the library indexes")
                continue
            if downloaded + unchanged >= max_files:
                left_out.append(f"{shown}: past {max_files:,} files")
                continue
            if total + size > max_bytes:
                left_out.append(f"{shown}: past {max_bytes:,} bytes in one request")
                continue
            local = folder / name / Path(*relative.split("/"))
            if _same(local, size, info):
                unchanged += 1
                continue
            _download(filesystem, remote, local)
            downloaded += 1
            total += size
        return Fetched(folder=str(folder / name), downloaded=downloaded, unchanged=unchanged,
                       bytes=total, left_out=left_out)  # fmt: skip

    return await storage.run(fetch, path)


def _objects_under(filesystem: Any, full: str) -> dict[str, dict[str, Any]]:
    info = filesystem.info(full)
    if info.get("type") != "directory":
        return {str(info["name"]).rstrip("/"): info}
    found: dict[str, dict[str, Any]] = filesystem.find(full, detail=True)
    return {str(key).rstrip("/"): value for key, value in found.items()
            if value.get("type") != "directory"}  # fmt: skip


def _same(local: Path, size: int, info: dict[str, Any]) -> bool:
    if not local.is_file() or local.stat().st_size != size:
        return False
    modified = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
    stamp = getattr(modified, "timestamp", None)
    remote_time = stamp() if callable(stamp) else modified
    return isinstance(remote_time, int | float) and local.stat().st_mtime >= float(remote_time)


def _download(filesystem: Any, remote: str, local: Path) -> None:
    """Stream one object to a partial file beside ``local``, then put it in place."""
    local.parent.mkdir(parents=True, exist_ok=True)
    partial = local.with_name(f".{local.name}.partial")
    try:
        with filesystem.open(remote, "rb") as reader, partial.open("wb") as writer:
            while block := reader.read(BLOCK_BYTES):
                writer.write(block)
        partial.replace(local)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
