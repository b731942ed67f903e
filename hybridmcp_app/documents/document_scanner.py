"""Find the files to index: walk dropped files and folders the way git sees them, hash each file.

Folders are walked with ``.gitignore`` and ``.ignore`` files applied like git applies them (a
nested file governs its own subtree, the deeper and later pattern wins, ``!`` re-includes), hidden
entries and ``.git`` are left out, and so are binary files, files over the size limit and those
that cannot be read — each with a reason. A file whose size and mtime match the last scan keeps
its known hash without being read, which makes a rescan of an unchanged tree cost one ``stat``
per file. Symbolic links are followed once: a link back to a folder already walked is not
entered again.

A plain blocking function; the library service runs it off the event loop.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR, S_ISREG

from pathspec import GitIgnoreSpec
from pydantic import Field

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.documents.document_models import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    ScannedFile,
    SkippedFile,
)

IGNORE_FILE_NAMES = (".gitignore", ".ignore")  # at one level, .ignore overrides .gitignore
BINARY_EXTENSIONS = frozenset({"pdf", "epub", "xps", "fb2", "docx"})  # binary by nature
SNIFF_BYTES = 8192  # a NUL byte in here makes a file binary, as git and grep decide
_READ_CHUNK = 1024 * 1024

KnownFiles = Mapping[Path, tuple[int, int, str]]  # path -> (size, mtime_ns, content hash)


class ScanResult(FrozenModel):
    """What a scan found: the files to index and the ones left out, with reasons."""

    files: tuple[ScannedFile, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    hashed: int = Field(0, ge=0, description="Files read to hash them; the rest reused a hash.")


class ScanCancelled(HybridMCPError):
    """The scan was cancelled before it finished; nothing it found is complete."""


@dataclass(frozen=True)
class _IgnoreFile:
    folder: Path  # the patterns are relative to this folder
    source: Path  # the ignore file, for reasons
    spec: GitIgnoreSpec


def scan_documents(
    paths: Iterable[Path],
    extensions: Collection[str],
    *,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    known: KnownFiles | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """Scan files and folders; ``progress`` gets the number of files looked at so far.

    Raises ``ScanCancelled`` when ``cancel`` is set during the scan.
    """
    scan = _Scan(extensions, max_bytes, known or {}, cancel, progress)
    for path in paths:
        scan.add(Path(os.path.normpath(Path(path).absolute())))  # keeps links as named
    return ScanResult(files=tuple(scan.files), skipped=tuple(scan.skipped), hashed=scan.hashed)


class _Scan:
    """The state of one scan: what was found, and which folders and files were already seen."""

    def __init__(
        self,
        extensions: Collection[str],
        max_bytes: int,
        known: KnownFiles,
        cancel: threading.Event | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.extensions = frozenset(extension.lower().lstrip(".") for extension in extensions)
        self.max_bytes = max_bytes
        self.known = known
        self.cancel = cancel
        self.progress = progress
        self.files: list[ScannedFile] = []
        self.skipped: list[SkippedFile] = []
        self.hashed = 0
        self.looked_at = 0
        self.seen_folders: set[tuple[int, int]] = set()
        self.seen_files: dict[tuple[int, int], Path] = {}

    def add(self, path: Path) -> None:
        """A dropped file is taken as chosen (no hidden or ignore check); a folder is walked."""
        try:
            stat = path.stat()
        except OSError as error:
            self._skip(path, _os_reason(error))
            return
        if S_ISDIR(stat.st_mode):
            self._walk(path, _enclosing_ignore_files(path))
        elif S_ISREG(stat.st_mode):
            self._consider(path, stat)
        else:
            self._skip(path, "not a regular file")

    def _walk(self, root: Path, inherited: tuple[_IgnoreFile, ...]) -> None:
        stack: list[tuple[Path, tuple[_IgnoreFile, ...]]] = [(root, inherited)]
        while stack:
            folder, ignore_files = stack.pop()
            self._check_cancel()
            try:
                folder_stat = folder.stat()
            except OSError as error:
                self._skip(folder, _os_reason(error))
                continue
            identity = (folder_stat.st_dev, folder_stat.st_ino)
            if identity in self.seen_folders:
                continue  # a link back to a folder already walked (a loop, or the same drop twice)
            self.seen_folders.add(identity)
            ignore_files = ignore_files + _ignore_files_in(folder)
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as error:
                self._skip(folder, _os_reason(error))
                continue
            subfolders: list[Path] = []
            for entry in entries:
                self._check_cancel()
                path = folder / entry.name
                if entry.name == ".git" or entry.name in IGNORE_FILE_NAMES:
                    continue  # the repository and the ignore files are not documents, nor news
                if entry.name.startswith("."):
                    self._skip(path, "hidden")
                    continue
                try:
                    is_folder = entry.is_dir()
                    stat = entry.stat()
                except OSError as error:
                    self._skip(path, _os_reason(error, link=entry.is_symlink()))
                    continue
                source = _ignored_by(ignore_files, path, is_folder=is_folder)
                if source is not None:
                    self._skip(path, f"ignored by {source}")
                elif is_folder:
                    subfolders.append(path)
                elif entry.is_file():
                    self._consider(path, stat)
                else:
                    self._skip(path, "not a regular file")
            stack.extend((subfolder, ignore_files) for subfolder in reversed(subfolders))

    def _consider(self, path: Path, stat: os.stat_result) -> None:
        self.looked_at += 1
        if self.progress is not None:
            self.progress(self.looked_at)
        identity = (stat.st_dev, stat.st_ino)
        first_seen_as = self.seen_files.get(identity)
        if first_seen_as is not None:  # dropped twice, or a link or hard link to a file seen
            if first_seen_as != path:
                self._skip(path, f"same file as {first_seen_as}")
            return
        self.seen_files[identity] = path
        extension = path.suffix.lower().lstrip(".")
        if extension not in self.extensions:
            reason = f"extension .{extension} is not in the list" if extension else "no extension"
            self._skip(path, reason)
            return
        if stat.st_size > self.max_bytes:
            limit = human_size(self.max_bytes)
            self._skip(path, f"too large: {human_size(stat.st_size)} (limit {limit})")
            return
        if stat.st_size == 0:
            self._skip(path, "empty file")
            return
        content_hash = self._known_hash(path, stat)
        if content_hash is None:
            try:
                content_hash, binary = _hash_file(path, sniff=extension not in BINARY_EXTENSIONS)
            except OSError as error:
                self._skip(path, _os_reason(error))
                return
            self.hashed += 1
            if binary:
                self._skip(path, "binary file")
                return
        self.files.append(
            ScannedFile(
                path=path,
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                content_hash=content_hash,
                extension=extension,
            )
        )

    def _known_hash(self, path: Path, stat: os.stat_result) -> str | None:
        known = self.known.get(path)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return known[2]
        return None

    def _skip(self, path: Path, reason: str) -> None:
        self.skipped.append(SkippedFile(path=path, reason=reason))

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ScanCancelled("the scan was cancelled")


def _hash_file(path: Path, *, sniff: bool) -> tuple[str, bool]:
    """The file's sha256, and whether its first bytes hold a NUL (binary) when ``sniff``."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        first = file.read(_READ_CHUNK)
        if sniff and b"\0" in first[:SNIFF_BYTES]:
            return "", True
        digest.update(first)
        while chunk := file.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), False


def _ignore_files_in(folder: Path) -> tuple[_IgnoreFile, ...]:
    found: list[_IgnoreFile] = []
    for name in IGNORE_FILE_NAMES:
        source = folder / name
        try:
            lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue  # none here, or unreadable: nothing to apply
        found.append(_IgnoreFile(folder, source, GitIgnoreSpec.from_lines(lines)))
    return tuple(found)


def _enclosing_ignore_files(folder: Path) -> tuple[_IgnoreFile, ...]:
    """Ignore files above a dropped folder, up to its git repository's top (none outside one)."""
    if (folder / ".git").exists():
        return ()
    ancestors: list[Path] = []
    for ancestor in folder.parents:
        ancestors.append(ancestor)
        if (ancestor / ".git").exists():
            return tuple(
                ignore_file
                for outer_first in reversed(ancestors)
                for ignore_file in _ignore_files_in(outer_first)
            )
    return ()


def _ignored_by(
    ignore_files: tuple[_IgnoreFile, ...], path: Path, *, is_folder: bool
) -> Path | None:
    """The ignore file whose pattern decides ``path`` is ignored, or None if it is not."""
    ignored_by: Path | None = None
    for ignore_file in ignore_files:
        relative = path.relative_to(ignore_file.folder).as_posix()
        result = ignore_file.spec.check_file(relative + "/" if is_folder else relative)
        if result.include is not None:  # the last matching pattern, deepest file last, wins
            ignored_by = ignore_file.source if result.include else None
    return ignored_by


def _os_reason(error: OSError, *, link: bool = False) -> str:
    if link:
        return "broken or looping symbolic link"
    if isinstance(error, PermissionError):
        return "cannot read: permission denied"
    if isinstance(error, FileNotFoundError):
        return "not found"
    return f"cannot read: {error.strerror or error}"


def human_size(size: int) -> str:
    """1536 -> "1.5 KiB"."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
