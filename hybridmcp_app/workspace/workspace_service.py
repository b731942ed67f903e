"""``WorkspaceService``: housekeeping of a set of root folders, for the workspace MCP server.

Every path goes through the ``Sandbox`` first. Every change to an existing file first saves a
snapshot (``snapshots.py``), and writing what a file already holds changes nothing, so
``write_file`` and ``restore_snapshot`` are idempotent. Scans (inventory, search) use the
library's gitignore-aware scanner and only files with the library's extensions; the scanner
follows symbolic links, even out of the roots, so its results are filtered to the roots here
(what a link out leads to is walked and hashed, never shown). Blocking work runs in a worker
thread; changes are serialised by one lock. Failures are ``WorkspaceError``s whose message is
meant for the client. No Qt.

Every file the service writes, and every file of its own it reads, is opened without following
symbolic links (``safe_files``, ``internal_folder``): files through their folder walked from the
root, the server's own folder refused when a link is in it or at it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

from hybridmcp_app.config.settings import DEFAULT_DOCUMENT_EXTENSIONS
from hybridmcp_app.documents.document_models import DEFAULT_MAX_DOCUMENT_BYTES
from hybridmcp_app.documents.document_scanner import (
    BINARY_EXTENSIONS,
    KnownFiles,
    ScanResult,
    scan_documents,
)
from hybridmcp_app.documents.workspace_inventory import (
    inventory_report,
    known_files_from,
    registry_json,
)
from hybridmcp_app.workspace import backups
from hybridmcp_app.workspace.internal_folder import find_internal, open_internal
from hybridmcp_app.workspace.safe_files import SafeDir
from hybridmcp_app.workspace.sandbox import (
    INTERNAL_DIR,
    Sandbox,
    SizeLimits,
    WorkspaceError,
    WorkspacePath,
)
from hybridmcp_app.workspace.snapshots import SnapshotRecord, SnapshotStore
from hybridmcp_app.workspace.snapshots import new_stamp as new_id
from hybridmcp_app.workspace.text_files import (
    TargetFile,
    decode_strict,
    matching_lines,
    os_failure,
)
from hybridmcp_app.workspace.workspace_models import (
    BackupResult,
    EditResult,
    FileContent,
    InventoryResult,
    RestoreResult,
    RootInventory,
    SearchHit,
    SearchResult,
    SnapshotList,
    WriteResult,
)

REGISTRY_NAME = "file_registry.json"
REPORT_NAME = "inventory.md"


class WorkspaceService:
    """Inventory, read, search, write, edit, snapshot and back up files inside fixed roots."""

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        limits: SizeLimits | None = None,
        backup_dir: Path | None = None,
        extensions: Collection[str] = DEFAULT_DOCUMENT_EXTENSIONS,
    ) -> None:
        self.sandbox = Sandbox(roots)
        self.limits = limits or SizeLimits()
        self.backup_dir = backup_dir.resolve() if backup_dir is not None else None
        self.extensions = frozenset(extension.lower().lstrip(".") for extension in extensions)
        self._stores = {root: SnapshotStore(root) for root in self.sandbox.roots}
        self._changes = threading.Lock()  # one change at a time: snapshot, then write

    @property
    def roots(self) -> tuple[Path, ...]:
        return self.sandbox.roots

    # ----------------------------------------------------------------- reading

    async def read_file(self, path: str) -> FileContent:
        """A text file up to the read limit; binary files are refused."""
        return await asyncio.to_thread(self._read_file, path)

    def _read_file(self, path: str) -> FileContent:
        target = self.sandbox.resolve(path)
        with TargetFile.open(target) as file:
            data = file.read(self.limits)
        try:
            text, replaced = data.decode("utf-8"), False
        except UnicodeDecodeError:
            text, replaced = data.decode("utf-8", errors="replace"), True
        return FileContent(
            path=target.shown,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            lines=len(text.splitlines()),
            text=text,
            replaced_invalid_utf8=replaced,
        )

    async def search_files(
        self,
        query: str,
        path: str = ".",
        *,
        glob: str | None = None,
        case_sensitive: bool = False,
        max_results: int = 50,
    ) -> SearchResult:
        """Lines holding ``query`` in the text files under ``path`` that .gitignore keeps."""
        return await asyncio.to_thread(self._search, query, path, glob, case_sensitive, max_results)

    def _search(
        self, query: str, path: str, glob: str | None, case_sensitive: bool, max_results: int
    ) -> SearchResult:
        if not query:
            raise WorkspaceError("the query is empty")
        target = self._existing(path)
        text_extensions = self.extensions - BINARY_EXTENSIONS
        known = self._known_files(target.root)  # skips re-hashing
        scan = self._scan(target, text_extensions, self.limits.max_read_bytes, known)
        hits: list[SearchHit] = []
        searched = 0
        for file in sorted(scan.files, key=lambda file: file.path):
            shown = self.sandbox.shown(file.path.resolve())
            if glob and not (fnmatch.fnmatch(shown, glob) or fnmatch.fnmatch(file.path.name, glob)):
                continue
            try:
                text = file.path.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                continue  # gone since the scan
            searched += 1
            for line, content in matching_lines(text, query, case_sensitive=case_sensitive):
                if len(hits) == max_results:
                    return SearchResult(query=query, hits=tuple(hits), files_searched=searched,
                                        truncated=True)  # fmt: skip
                hits.append(SearchHit(path=shown, line=line, text=content))
        return SearchResult(query=query, hits=tuple(hits), files_searched=searched)

    async def inventory(self, root: str | None = None) -> InventoryResult:
        """Scan each root (or one), write its registry and report, and return them."""
        return await asyncio.to_thread(self._inventory, root)

    def _inventory(self, root: str | None) -> InventoryResult:
        if root is None:
            roots = list(self.sandbox.roots)
        else:
            target = self._existing(root)
            if target.real != target.root:
                raise WorkspaceError(f"{root} is not a workspace root; inventory covers a root")
            roots = [target.root]
        return InventoryResult(roots=tuple(self._inventory_of(each) for each in roots))

    def _inventory_of(self, root: Path) -> RootInventory:
        internal = root / INTERNAL_DIR
        try:
            with open_internal(root) as folder:
                known = _known(folder)
                scan = self._scan(
                    self._existing(str(root)), self.extensions, DEFAULT_MAX_DOCUMENT_BYTES, known
                )
                folder.write(REGISTRY_NAME, registry_json(scan).encode("utf-8"))
                report = inventory_report(scan)
                folder.write(REPORT_NAME, report.encode("utf-8"))
        except OSError as error:
            raise os_failure(f"the inventory of {root}", error) from None
        return RootInventory(
            root=str(root), files=len(scan.files), skipped=len(scan.skipped), hashed=scan.hashed,
            size=sum(file.size for file in scan.files), registry=str(internal / REGISTRY_NAME),
            report_path=str(internal / REPORT_NAME), report=report,
        )  # fmt: skip

    def _scan(
        self,
        target: WorkspacePath,
        extensions: Collection[str],
        max_bytes: int,
        known: KnownFiles | None = None,
    ) -> ScanResult:
        """The scanner's result with whatever a link led to outside the roots left out."""
        result = scan_documents([target.real], extensions, max_bytes=max_bytes, known=known)
        return ScanResult(
            files=tuple(file for file in result.files if self.sandbox.contains(file.path)),
            skipped=tuple(item for item in result.skipped if self.sandbox.contains(item.path)),
            hashed=result.hashed,
        )

    # ----------------------------------------------------------------- changing

    async def write_file(self, path: str, content: str) -> WriteResult:
        """Create or replace a file; an existing one is snapshotted first."""
        return await asyncio.to_thread(self._write_file, path, content)

    def _write_file(self, path: str, content: str) -> WriteResult:
        target = self.sandbox.resolve(path, for_write=True)
        data = content.encode("utf-8")
        self.limits.check_write(target.shown, len(data))
        existed, changed, snapshot = self._replace(target, data, "write_file")
        return WriteResult(path=target.shown, size=len(data), created=not existed, changed=changed,
                           snapshot=snapshot)  # fmt: skip

    async def edit_file(self, path: str, old_text: str, new_text: str) -> EditResult:
        """Replace the one occurrence of ``old_text``; the file is snapshotted first."""
        return await asyncio.to_thread(self._edit_file, path, old_text, new_text)

    def _edit_file(self, path: str, old_text: str, new_text: str) -> EditResult:
        if not old_text:
            raise WorkspaceError("old_text is empty; give the exact text to replace")
        target = self.sandbox.resolve(path, for_write=True)
        with self._changes, TargetFile.open(target) as file:
            text = decode_strict(target, file.read(self.limits))
            count = text.count(old_text)
            if count == 0:
                raise WorkspaceError(f"old_text was not found in {target.shown}; nothing changed")
            if count > 1:
                raise WorkspaceError(
                    f"old_text occurs {count} times in {target.shown}; include more of the "
                    "surrounding text so that it matches exactly once"
                )
            start = text.index(old_text)
            data = (text[:start] + new_text + text[start + len(old_text) :]).encode("utf-8")
            self.limits.check_write(target.shown, len(data))
            snapshot = self._snapshot(file, "edit_file")
            file.write(data)
        return EditResult(path=target.shown, size=len(data), line=text.count("\n", 0, start) + 1,
                          snapshot=snapshot)  # fmt: skip

    async def list_snapshots(self, path: str | None = None, limit: int = 50) -> SnapshotList:
        """Snapshots of every root (or of one file), newest first."""
        return await asyncio.to_thread(self._list_snapshots, path, limit)

    def _list_snapshots(self, path: str | None, limit: int) -> SnapshotList:
        target = None if path is None else self.sandbox.resolve(path)
        try:
            if target is None:
                records = [record for store in self._stores.values() for record in store.records()]
            else:
                records = self._stores[target.root].records(target.relative)
        except OSError as error:
            raise os_failure("the snapshots folder", error) from None
        records.sort(key=lambda record: record.id, reverse=True)
        return SnapshotList(snapshots=tuple(records[:limit]), truncated=len(records) > limit)

    async def restore_snapshot(self, snapshot_id: str) -> RestoreResult:
        """Put a snapshot back, snapshotting the current content first."""
        return await asyncio.to_thread(self._restore, snapshot_id)

    def _restore(self, snapshot_id: str) -> RestoreResult:
        try:
            store, record = self._find(snapshot_id)
            data = store.content(record)
        except OSError as error:
            raise os_failure(f"snapshot {snapshot_id}", error) from None
        target = self.sandbox.resolve(str(store.root / record.path), for_write=True)
        _existed, changed, snapshot = self._replace(target, data, f"restore_snapshot {record.id}")
        return RestoreResult(path=target.shown, restored_from=record.id, changed=changed,
                             snapshot=snapshot)  # fmt: skip

    async def backup(self, paths: Sequence[str]) -> BackupResult:
        """Copy files and folders of one root into a new timestamped backup folder."""
        return await asyncio.to_thread(self._backup, tuple(paths))

    def _backup(self, paths: tuple[str, ...]) -> BackupResult:
        if not paths:
            raise WorkspaceError("name at least one file or folder to back up")
        targets = [self._existing(path) for path in paths]
        root = targets[0].root
        if any(target.root != root for target in targets):
            raise WorkspaceError("the paths lie in different roots; back up one root per call")
        backup_id = new_id()
        destination = backups.backup_location(root, self.backup_dir, backup_id)
        try:
            entries = backups.plan_backup(targets, leave_out=self.backup_dir, limits=self.limits)
            with backups.open_destination(root, self.backup_dir, backup_id) as folder:
                files, size = backups.copy_backup(root, entries, folder)
        except OSError as error:
            raise os_failure(f"backup {backup_id}", error) from None
        return BackupResult(id=backup_id, location=str(destination), files=files, size=size,
                            paths=tuple(target.shown for target in targets))  # fmt: skip

    # ----------------------------------------------------------------- helpers

    def _existing(self, path: str) -> WorkspacePath:
        target = self.sandbox.resolve(path)
        try:
            there = target.real.exists()
        except OSError as error:
            raise os_failure(target.shown, error) from None
        if not there:
            raise WorkspaceError(f"{target.shown} does not exist")
        return target

    def _replace(
        self, target: WorkspacePath, data: bytes, reason: str
    ) -> tuple[bool, bool, SnapshotRecord | None]:
        """Write ``data`` into ``target``, snapshotting what it held: (existed, changed, snapshot).

        Writing what the file already holds changes nothing (and takes no snapshot).
        """
        with self._changes, TargetFile.open(target, create_folders=True) as file:
            existed = file.facts() is not None
            if existed and file.holds(data):
                return True, False, None
            snapshot = self._snapshot(file, reason) if existed else None
            file.write(data)
        return existed, True, snapshot

    def _find(self, snapshot_id: str) -> tuple[SnapshotStore, SnapshotRecord]:
        for store in self._stores.values():
            record = store.find(snapshot_id)
            if record is not None:
                return store, record
        raise WorkspaceError(f"no snapshot {snapshot_id}; list_snapshots shows the ids")

    def _snapshot(self, file: TargetFile, reason: str) -> SnapshotRecord:
        target = file.target
        try:
            return self._stores[target.root].save(file.parent, file.name, target.relative, reason)
        except OSError as error:
            raise os_failure(f"snapshot of {target.shown}", error) from None

    def _known_files(self, root: Path) -> KnownFiles:
        """The registry of the last inventory, as the scan's ``known`` map (empty when none)."""
        try:
            folder = find_internal(root)
            if folder is None:
                return {}
            with folder:
                return _known(folder)
        except OSError:
            return {}  # only a cache


def _known(folder: SafeDir) -> KnownFiles:
    """The registry in the open internal ``folder`` as a ``known`` map; empty when unusable."""
    try:
        data = folder.read_if_there(REGISTRY_NAME)
    except OSError:
        return {}  # only a cache: losing it costs one full re-hash
    return {} if data is None else known_files_from(data, folder.shown(REGISTRY_NAME))
