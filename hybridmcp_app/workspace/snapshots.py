"""Timestamped copies of files, taken before the workspace tools change them.

Where they live: ``<root>/.hybridmcp-workspace/snapshots/``, in the root that holds the file.
Kept beside the workspace rather than in the app's data dir so that they travel with it (moved,
copied, opened from another machine), the fence that guards the files guards them too, and two
workspaces never share a folder. The ``.hybridmcp-workspace`` folder is created with a
``.gitignore`` of ``*``, so git leaves it alone; the scanner skips it as hidden.

Each snapshot is two files: ``<id>.snapshot`` (the bytes as they were) and ``<id>.json`` (its
``SnapshotRecord``), the record written last so a listing never shows a snapshot without its
content. Ids are the UTC time to the microsecond plus six random hex digits
(``20260730T121314.123456Z-a1b2c3``): unique, sortable by time, and safe as file names.
Nothing is pruned: snapshots stay until someone deletes the folder.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.workspace.sandbox import INTERNAL_DIR

log = logging.getLogger("hybridmcp.workspace.snapshots")

STAMP_PATTERN = r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$"
_STAMP = re.compile(STAMP_PATTERN)
_READ_CHUNK = 1024 * 1024


def new_stamp() -> str:
    """A fresh id: UTC time to the microsecond and six random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(3)}"


def internal_folder(root: Path) -> Path:
    """The server's own folder in ``root``, created with a ``.gitignore`` that ignores it all."""
    folder = root / INTERNAL_DIR
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# HybridMCP workspace server: snapshots, backups, inventory\n*\n")
    return folder


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class SnapshotRecord(FrozenModel):
    """One snapshot: which file (relative to its root), when and why it was taken, what it held."""

    id: str = Field(pattern=STAMP_PATTERN)
    root: str = Field(description="The root folder that holds the file.")
    path: str = Field(description="The file, relative to its root (POSIX separators).")
    created_at: datetime
    reason: str = Field(description="The tool call that took it: write_file, edit_file, …")
    size: int = Field(ge=0)
    sha256: str


class SnapshotStore:
    """The snapshots of one root: save, list, find, and the saved bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def folder(self) -> Path:
        return self.root / INTERNAL_DIR / "snapshots"

    def save(self, real: Path, reason: str) -> SnapshotRecord:
        """Copy the file at ``real`` (inside this root) and record it."""
        internal_folder(self.root)
        self.folder.mkdir(exist_ok=True)
        stamp = new_stamp()
        content = self.folder / f"{stamp}.snapshot"
        shutil.copyfile(real, content)
        record = SnapshotRecord(
            id=stamp,
            root=str(self.root),
            path=real.relative_to(self.root).as_posix(),
            created_at=datetime.now(UTC),
            reason=reason,
            size=content.stat().st_size,
            sha256=sha256_of(content),
        )
        (self.folder / f"{stamp}.json").write_text(record.model_dump_json(indent=1) + "\n")
        return record

    def records(self, relative: str | None = None) -> list[SnapshotRecord]:
        """Every usable snapshot, newest first; only those of ``relative`` when given."""
        if not self.folder.is_dir():
            return []
        found: list[SnapshotRecord] = []
        for meta in self.folder.glob("*.json"):
            record = self._read(meta)
            if record is not None and (relative is None or record.path == relative):
                found.append(record)
        return sorted(found, key=lambda record: record.id, reverse=True)

    def find(self, snapshot_id: str) -> SnapshotRecord | None:
        if not _STAMP.match(snapshot_id):
            return None
        return self._read(self.folder / f"{snapshot_id}.json")

    def content_path(self, record: SnapshotRecord) -> Path:
        return self.folder / f"{record.id}.snapshot"

    def _read(self, meta: Path) -> SnapshotRecord | None:
        try:
            record = SnapshotRecord.model_validate_json(meta.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError) as error:
            log.warning("snapshot record %s is unusable: %s", meta, error)
            return None
        if record.id != meta.stem or not self.content_path(record).is_file():
            log.warning("snapshot record %s has no content file", meta)
            return None
        return record.model_copy(update={"root": str(self.root)})  # the folder may have moved
