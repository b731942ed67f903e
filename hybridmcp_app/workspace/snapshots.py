"""Timestamped copies of files, taken before the workspace tools change them.

Where they live: ``<root>/.hybridmcp-workspace/snapshots/``, in the root that holds the file.
Kept beside the workspace rather than in the app's data dir so that they travel with it (moved,
copied, opened from another machine), the fence that guards the files guards them too, and two
workspaces never share a folder. The ``.hybridmcp-workspace`` folder is opened as
``internal_folder`` says (no symbolic links in or at it) and every file in it through
``safe_files``: a snapshot whose record or content is a link is refused, not followed.

Each snapshot is two files: ``<id>.snapshot`` (the bytes as they were) and ``<id>.json`` (its
``SnapshotRecord``), the record written last so a listing never shows a snapshot without its
content. Ids are the UTC time to the microsecond plus six random hex digits
(``20260730T121314.123456Z-a1b2c3``): unique, sortable by time, and safe as file names.
Nothing is pruned: snapshots stay until someone deletes the folder.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.workspace.internal_folder import find_internal_folder, open_internal_folder
from hybridmcp_app.workspace.safe_files import SafeDir
from hybridmcp_app.workspace.sandbox import INTERNAL_DIR

log = logging.getLogger("hybridmcp.workspace.snapshots")

STAMP_PATTERN = r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$"
_STAMP = re.compile(STAMP_PATTERN)
SNAPSHOTS = "snapshots"


def new_stamp() -> str:
    """A fresh id: UTC time to the microsecond and six random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(3)}"


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
        return self.root / INTERNAL_DIR / SNAPSHOTS

    def save(self, source: SafeDir, name: str, relative: str, reason: str) -> SnapshotRecord:
        """Copy the file ``name`` of the open folder ``source`` (``relative``: its path in this
        root) and record it."""
        with open_internal_folder(self.root, SNAPSHOTS) as folder:
            stamp = new_stamp()
            # with the file's own permissions: a private file's snapshot stays private
            size, digest = source.copy_to(name, folder, f"{stamp}.snapshot", keep_metadata=True)
            record = SnapshotRecord(
                id=stamp, root=str(self.root), path=relative, created_at=datetime.now(UTC),
                reason=reason, size=size, sha256=digest,
            )  # fmt: skip
            folder.write(f"{stamp}.json", (record.model_dump_json(indent=1) + "\n").encode())
        return record

    def records(self, relative: str | None = None) -> list[SnapshotRecord]:
        """Every usable snapshot, newest first; only those of ``relative`` when given."""
        folder = find_internal_folder(self.root, SNAPSHOTS)
        if folder is None:
            return []
        found: list[SnapshotRecord] = []
        with folder:
            for name in folder.names():
                if not name.endswith(".json"):
                    continue
                record = self._read(folder, name)
                if record is not None and (relative is None or record.path == relative):
                    found.append(record)
        return sorted(found, key=lambda record: record.id, reverse=True)

    def find(self, snapshot_id: str) -> SnapshotRecord | None:
        if not _STAMP.match(snapshot_id):
            return None
        folder = find_internal_folder(self.root, SNAPSHOTS)
        if folder is None:
            return None
        with folder:
            return self._read(folder, f"{snapshot_id}.json")

    def content(self, record: SnapshotRecord) -> bytes:
        """The bytes the snapshot saved; ``FileNotFoundError`` when they are gone."""
        folder = find_internal_folder(self.root, SNAPSHOTS)
        if folder is None:
            raise FileNotFoundError(2, "no snapshots folder", str(self.folder))
        with folder:
            return folder.read(f"{record.id}.snapshot")

    def _read(self, folder: SafeDir, name: str) -> SnapshotRecord | None:
        """The record in ``name``, or None when it is unusable; a link there is refused."""
        try:
            record = SnapshotRecord.model_validate_json(folder.read(name))
        except FileNotFoundError:
            return None
        except (OSError, ValidationError) as error:
            log.warning("snapshot record %s is unusable: %s", folder.shown(name), error)
            return None
        try:
            content = folder.regular(f"{record.id}.snapshot")  # a link there is refused
        except IsADirectoryError:
            content = None
        if record.id != name.removesuffix(".json") or content is None:
            log.warning("snapshot record %s has no content file", folder.shown(name))
            return None
        return record.model_copy(update={"root": str(self.root)})  # the folder may have moved
