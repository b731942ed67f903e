"""Watched folders: the library follows what happens in them on disk.

``watchfiles`` (inotify/FSEvents/ReadDirectoryChanges through its Rust core, polling where
those are missing) reports changes; after a quiet moment the folders they touched are rescanned
with ``LibraryService.add``. The rescan hashes only files whose size or mtime changed and indexes
only files whose content changed, so an edit costs one file's work; deleted and renamed files
leave the library the same way (the scan no longer finds them). Each folder is also caught up
when watching starts, for what changed while the app was closed.

A watched folder that disappears (an unplugged drive, a share gone away) keeps its documents: it
is shown as missing and picked up again when it comes back. No Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel

if TYPE_CHECKING:
    from hybridmcp_app.documents.library_indexer import IndexProgress, IndexReport
    from hybridmcp_app.documents.library_service import LibraryService

log = logging.getLogger("hybridmcp.documents.watch")
MISSING_RETRY_S = 5.0  # how often a missing folder is looked for again


class WatchedFolder(FrozenModel):
    """A folder the library follows, and how it stands."""

    path: Path
    last_indexed_at: float | None = Field(None, description="When it was last brought in sync.")
    documents: int = Field(0, description="Library files under it.")
    syncing: bool = False
    problem: str = Field("", description="Why it is not followed right now, if it is not.")


def _absolute(path: Path) -> Path:
    return Path(os.path.normpath(Path(path).expanduser().absolute()))


class FolderWatcher:
    """Keeps the library in step with its watched folders while ``run`` runs.

    ``save`` gets the folder list after each change (the app keeps it in the settings);
    ``on_change`` is called when a folder's state changes (the UI redraws);
    ``progress`` follows the indexing runs the watcher starts.
    """

    def __init__(
        self,
        library: LibraryService,
        folders: Iterable[Path] = (),
        *,
        save: Callable[[tuple[Path, ...]], None] | None = None,
        on_change: Callable[[], None] | None = None,
        progress: Callable[[IndexProgress], None] | None = None,
        ignore: Sequence[Path] = (),
        debounce_ms: int = 700,
        force_polling: bool | None = None,
    ) -> None:
        self.library = library
        self._folders: dict[Path, WatchedFolder] = {}
        for folder in folders:
            path = _absolute(folder)
            self._folders[path] = WatchedFolder(path=path)
        self._save, self.on_change, self.progress = save, on_change, progress
        self._ignore = tuple(str(_absolute(path)) for path in ignore)
        self._debounce_ms, self._force_polling = debounce_ms, force_polling
        self._changed = asyncio.Event()  # the folder set changed: watch anew
        # Called after each sync with its report (``hybridmcp library watch`` prints it).
        self.on_synced: Callable[[Path, IndexReport], None] | None = None
        self.syncs = 0  # rescans started by changes on disk (tests and the log read it)

    def folders(self) -> list[WatchedFolder]:
        return sorted(self._folders.values(), key=lambda folder: str(folder.path))

    # ---------------------------------------------------------------- changing the set

    async def watch(self, folder: Path) -> IndexReport:
        """Follow ``folder`` from now on, and bring it into the library now."""
        path = _absolute(folder)
        if not path.is_dir():
            raise HybridMCPError(f"{path} is not a folder that exists")
        if path not in self._folders:
            self._folders[path] = WatchedFolder(path=path)
            self._saved()
        return await self.sync(path)

    async def unwatch(self, folder: Path, *, remove_documents: bool = False) -> int:
        """Stop following ``folder``; its documents stay unless ``remove_documents``."""
        path = _absolute(folder)
        if self._folders.pop(path, None) is None:
            raise HybridMCPError(f"{path} is not a watched folder")
        self._saved()
        return await self.library.remove([path]) if remove_documents else 0

    def _saved(self) -> None:
        self._changed.set()
        if self._save is not None:
            self._save(tuple(self._folders))
        self._notify()

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _update(self, path: Path, **changes: object) -> None:
        current = self._folders.get(path)
        if current is not None:
            self._folders[path] = current.model_copy(update=changes)
            self._notify()

    # ---------------------------------------------------------------- syncing

    async def sync(self, folder: Path) -> IndexReport:
        """Rescan one watched folder now; only what changed is indexed again."""
        from hybridmcp_app.documents.library_indexer import IndexReport

        path = _absolute(folder)
        if not path.is_dir():
            documents = len(await asyncio.to_thread(self.library.state.paths_under, path))
            self._update(
                path, syncing=False, documents=documents,
                problem=f"the folder is missing; its {documents} document(s) are kept "
                "until it is back or you remove it",
            )  # fmt: skip
            return IndexReport()
        self._update(path, syncing=True)
        try:
            report = await self.library.add([path], self.progress)
        except HybridMCPError as error:
            self._update(path, syncing=False, problem=str(error))
            raise
        except BaseException:
            self._update(path, syncing=False)
            raise
        documents = len(await asyncio.to_thread(self.library.state.paths_under, path))
        self._update(
            path, syncing=False, problem="", documents=documents,
            last_indexed_at=None if report.cancelled else time.time(),
        )  # fmt: skip
        if self.on_synced is not None:
            self.on_synced(path, report)
        if report.indexed or report.removed or report.failed:
            log.info(
                "%s: %d indexed, %d removed, %d failed",
                path, report.indexed, report.removed, report.failed,
            )  # fmt: skip
        return report

    async def _sync_quietly(self, folders: Iterable[Path]) -> None:
        for folder in folders:
            try:
                await self.sync(folder)
            except HybridMCPError as error:  # shown on the folder; watching goes on
                log.warning("watched folder %s: %s", folder, error)

    def _owners(self, changed: Iterable[str]) -> list[Path]:
        """The watched folders that hold the changed paths."""
        owners: set[Path] = set()
        for name in changed:
            if any(name == root or name.startswith(root + os.sep) for root in self._ignore):
                continue
            for folder in self._folders:
                root = str(folder)
                if name == root or name.startswith(root + os.sep):
                    owners.add(folder)
        return sorted(owners)

    async def run(self) -> None:
        """Catch up every folder, then follow changes until cancelled."""
        from watchfiles import awatch

        await self._sync_quietly(list(self._folders))
        while True:
            self._changed.clear()
            present = [path for path in self._folders if path.is_dir()]
            missing = [path for path in self._folders if path not in present]
            if missing:
                await self._sync_quietly(missing)  # marks them missing
            if not present:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), MISSING_RETRY_S)
                continue
            try:
                async for changes in awatch(
                    *present,
                    stop_event=self._changed,
                    debounce=self._debounce_ms,
                    rust_timeout=int(MISSING_RETRY_S * 1000) if missing else None,
                    yield_on_timeout=bool(missing),
                    force_polling=self._force_polling,
                    ignore_permission_denied=True,
                ):
                    owners = self._owners(name for _, name in changes)
                    if owners:
                        self.syncs += 1
                        await self._sync_quietly(owners)
                    if any(path.is_dir() for path in missing) or any(
                        not path.is_dir() for path in present
                    ):
                        break  # a missing folder is back, or a watched one went away
            except (OSError, RuntimeError) as error:  # e.g. inotify's watch limit reached
                log.warning("watching folders failed (%s); polling instead", error)
                if self._force_polling:
                    await asyncio.sleep(MISSING_RETRY_S)
                self._force_polling = True
