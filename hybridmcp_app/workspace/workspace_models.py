"""What the workspace service answers: one pydantic model per operation (the MCP tools' output).

Paths are given the way the tools take them: relative to the primary root when the file lies
there, absolute otherwise, so a path from one answer can be passed straight to the next call.
They are plain strings: pydantic's ``Path`` has a JSON-schema format ("path") that clients'
validators do not know and warn about.
"""

from __future__ import annotations

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.workspace.snapshots import SnapshotRecord


class FileContent(FrozenModel):
    """A text file's content and what identifies this version of it."""

    path: str
    size: int = Field(ge=0, description="Bytes on disk.")
    sha256: str
    lines: int = Field(ge=0)
    text: str
    replaced_invalid_utf8: bool = Field(
        False, description="Bytes that were not UTF-8 are shown as U+FFFD."
    )


class SearchHit(FrozenModel):
    """One matching line."""

    path: str
    line: int = Field(ge=1)
    text: str = Field(description="The line, shortened when very long.")


class SearchResult(FrozenModel):
    """Lines holding the query, in path and line order, up to the result limit."""

    query: str
    hits: tuple[SearchHit, ...] = ()
    files_searched: int = Field(0, ge=0)
    truncated: bool = Field(False, description="More lines match than the limit allowed.")


class WriteResult(FrozenModel):
    """What ``write_file`` did; ``snapshot`` holds the previous content when there was any."""

    path: str
    size: int = Field(ge=0)
    created: bool = Field(description="The file did not exist before.")
    changed: bool = Field(description="False when the file already held exactly this content.")
    snapshot: SnapshotRecord | None = None


class EditResult(FrozenModel):
    """What ``edit_file`` did: where the replacement starts and the pre-edit snapshot."""

    path: str
    size: int = Field(ge=0)
    line: int = Field(ge=1, description="Line where the replaced text started.")
    snapshot: SnapshotRecord


class SnapshotList(FrozenModel):
    """Snapshots, newest first."""

    snapshots: tuple[SnapshotRecord, ...] = ()
    truncated: bool = Field(False, description="Older snapshots exist beyond the limit.")


class RestoreResult(FrozenModel):
    """What ``restore_snapshot`` did; restoring ``snapshot`` undoes the restore."""

    path: str
    restored_from: str = Field(description="The id of the snapshot put back.")
    changed: bool = Field(description="False when the file already held that content.")
    snapshot: SnapshotRecord | None = Field(
        None, description="The file as it was just before the restore (none if it was absent)."
    )


class BackupResult(FrozenModel):
    """A timestamped copy of the chosen paths."""

    id: str
    location: str
    paths: tuple[str, ...]
    files: int = Field(ge=0)
    size: int = Field(ge=0, description="Bytes copied.")


class RootInventory(FrozenModel):
    """One root's scan: counts, where the registry and the report were written, the report."""

    root: str
    files: int = Field(ge=0)
    skipped: int = Field(ge=0)
    hashed: int = Field(ge=0, description="Files read to hash them; the rest were unchanged.")
    size: int = Field(ge=0, description="Bytes in the files found.")
    registry: str
    report_path: str
    report: str = Field(description="The inventory report (Markdown).")


class InventoryResult(FrozenModel):
    """The inventory of each root asked for."""

    roots: tuple[RootInventory, ...]
