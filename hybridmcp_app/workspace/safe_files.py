"""Files below a trusted folder, reached without following symbolic links.

A ``SafeDir`` is an open folder. Names below it are walked one at a time from its descriptor
(``os.open(name, O_DIRECTORY | O_NOFOLLOW, dir_fd=...)``): a name that is a symbolic link is
refused with ``LinkRefused`` instead of followed, and once a folder is open, swapping it (or one
above it) for a link changes nothing for us, as the descriptor still names the folder that was
checked. New files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` in the folder's descriptor
and an atomic write renames its temporary file over the target in that same folder, so no file,
final or temporary, is ever written anywhere else. Reads open with ``O_NOFOLLOW`` too and take
regular files only (a FIFO or a device is refused without blocking).

Windows has no ``dir_fd``: there each name is checked with ``lstat`` just before it is used,
which refuses the links already there but not one swapped in between the check and the use
(the behaviour before this module, kept where the OS offers nothing better).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from hybridmcp_app.workspace.sandbox import PathRefused

_DIR_FDS = all(
    call in os.supports_dir_fd for call in (os.open, os.mkdir, os.stat, os.rename, os.symlink)
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_CHUNK = 1024 * 1024


class LinkRefused(PathRefused):
    """A name on the way is a symbolic link, where none may be."""


class SafeDir:
    """An open folder: its children are opened, read and written without following links.

    ``label`` is how messages name the folder; ``hint`` ends the message of a refused link (what
    the link means here and what to do). Close it (or use it as a context manager).
    """

    def __init__(self, path: Path, fd: int | None, *, label: str, hint: str) -> None:
        self.path = path
        self.fd = fd  # None where the OS has no dir_fd: then names are used as full paths
        self.label = label
        self.hint = hint

    @classmethod
    def open(cls, path: Path, *, label: str | None = None, hint: str) -> SafeDir:
        """Open ``path``, a trusted folder whose own path is resolved (a root, the backup dir)."""
        label = str(path) if label is None else label
        if not _DIR_FDS:
            if path.is_symlink():
                raise LinkRefused(f"{label} is a symbolic link; {hint}")
            if not path.is_dir():
                raise NotADirectoryError(20, "not a folder", str(path))
            return cls(path, None, label=label, hint=hint)
        try:
            fd = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
        except OSError:
            if path.is_symlink():
                raise LinkRefused(f"{label} is a symbolic link; {hint}") from None
            raise
        return cls(path, fd, label=label, hint=hint)

    def __enter__(self) -> SafeDir:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def shown(self, name: str) -> str:
        """How messages name the child ``name``."""
        return name if self.label in ("", ".") else f"{self.label}/{name}"

    # ------------------------------------------------------------------ folders

    def folder(self, name: str, *, create: bool = False, new: bool = False) -> SafeDir:
        """The child folder ``name``, created when ``create`` (``new``: it must not exist yet)."""
        if create or new:
            place, fd = self._at(name)
            try:
                os.mkdir(place, 0o777, dir_fd=fd)
            except FileExistsError:
                if new:
                    raise
        self._refuse_link(name)
        if self.fd is None:
            return self._fallback_folder(name)
        try:
            fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=self.fd)
        except OSError as error:
            self._refuse_swapped(name, error, folder=True)
            raise
        return SafeDir(self.path / name, fd, label=self.shown(name), hint=self.hint)

    def walk(self, parts: Iterable[str], *, create: bool = False) -> SafeDir:
        """The folder ``parts`` below this one, opened one name at a time (a new ``SafeDir``)."""
        current = SafeDir(self.path, _dup(self.fd), label=self.label, hint=self.hint)
        try:
            for part in parts:
                child = current.folder(part, create=create)
                current.close()
                current = child
        except BaseException:
            current.close()
            raise
        return current

    def links(self) -> list[str]:
        """The names here that are symbolic links."""
        with os.scandir(self.fd if self.fd is not None else self.path) as entries:
            return sorted(entry.name for entry in entries if entry.is_symlink())

    def names(self) -> list[str]:
        """Every name here."""
        return sorted(os.listdir(self.fd if self.fd is not None else self.path))  # noqa: PTH208 (a descriptor)

    # ------------------------------------------------------------------ entries

    def entry(self, name: str) -> os.stat_result | None:
        """What ``name`` is (its links not followed), or None when there is nothing by that name."""
        place, fd = self._at(name)
        try:
            return os.stat(place, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def regular(self, name: str) -> os.stat_result | None:
        """The regular file ``name``, or None; a link or a folder there is an error."""
        found = self.entry(name)
        if found is None:
            return None
        if stat.S_ISLNK(found.st_mode):
            raise LinkRefused(f"{self.shown(name)} is a symbolic link; {self.hint}")
        if stat.S_ISDIR(found.st_mode):
            raise IsADirectoryError(21, "is a folder", self.shown(name))
        return found

    def read_link(self, name: str) -> str:
        place, fd = self._at(name)
        return os.readlink(place, dir_fd=fd)

    def make_link(self, target: str, name: str) -> None:
        place, fd = self._at(name)
        os.symlink(target, place, dir_fd=fd)

    # ------------------------------------------------------------------ files

    def open_read(self, name: str) -> BinaryIO:
        """The regular file ``name``, open for reading; a link or anything else is refused."""
        self._refuse_link(name)
        place, fd = self._at(name)
        try:
            handle = os.open(place, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _BINARY, dir_fd=fd)
        except OSError as error:
            self._refuse_swapped(name, error, folder=False)
            raise
        try:
            kind = os.fstat(handle).st_mode
            if stat.S_ISDIR(kind):
                raise IsADirectoryError(21, "is a folder", self.shown(name))
            if not stat.S_ISREG(kind):
                raise PathRefused(f"{self.shown(name)} is not a regular file (a pipe or a device?)")
            if _NONBLOCK:
                os.set_blocking(handle, True)
            return os.fdopen(handle, "rb")
        except BaseException:
            os.close(handle)
            raise

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        """The bytes of the regular file ``name``; at most ``limit`` + 1 of them when given."""
        with self.open_read(name) as file:
            return file.read() if limit is None else file.read(limit + 1)

    def read_if_there(self, name: str) -> bytes | None:
        try:
            return self.read(name)
        except FileNotFoundError:
            return None

    def create(self, name: str, *, mode: int = 0o666) -> BinaryIO:
        """A new file ``name`` (never one already there, never through a link), for writing."""
        place, fd = self._at(name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
        return os.fdopen(os.open(place, flags, mode, dir_fd=fd), "wb")

    def write(self, name: str, data: bytes) -> None:
        """Replace (or create) ``name`` atomically; an existing file keeps its permissions.

        The bytes go to a new temporary file in this folder, reach the disk, and the temporary
        file is renamed over ``name`` here. A link at ``name`` is refused.
        """
        existing = self.regular(name)
        temp_name = f".{name[:40]}.{secrets.token_hex(4)}.tmp"
        (temp, fd), (target, _) = self._at(temp_name), self._at(name)
        # a new file gets the usual permissions (0o666 less the umask); an old one keeps its own
        with self.create(temp_name, mode=0o666 if existing is None else 0o600) as file:
            try:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
                if existing is not None:
                    _chmod(file, (temp, fd), stat.S_IMODE(existing.st_mode))
                file.close()
                os.replace(temp, target, src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp, dir_fd=fd)
                raise

    def copy_to(
        self, name: str, target: SafeDir, target_name: str, *, keep_metadata: bool = False
    ) -> tuple[int, str]:
        """Copy the regular file ``name`` into a new file of ``target``: (bytes, SHA-256)."""
        digest, size = hashlib.sha256(), 0
        with self.open_read(name) as source:
            facts = os.fstat(source.fileno())
            with target.create(target_name, mode=0o600 if keep_metadata else 0o666) as copy:
                while chunk := source.read(_CHUNK):
                    copy.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                copy.flush()
                if keep_metadata:  # as shutil.copy2 does: permissions and times
                    at = target._at(target_name)
                    _chmod(copy, at, stat.S_IMODE(facts.st_mode))
                    _utime(copy, at, facts)
        return size, digest.hexdigest()

    # ------------------------------------------------------------------ helpers

    def _at(self, name: str) -> tuple[str, int | None]:
        """``name`` as os functions take it: with this folder's descriptor, or as a full path."""
        if os.sep in name or (os.altsep and os.altsep in name) or name in ("", ".", ".."):
            raise PathRefused(f"{self.shown(name)}: not a plain file or folder name")
        if self.fd is None:
            return str(self.path / name), None
        return name, self.fd

    def _refuse_link(self, name: str) -> None:
        found = self.entry(name)
        if found is not None and stat.S_ISLNK(found.st_mode):
            raise LinkRefused(f"{self.shown(name)} is a symbolic link; {self.hint}")

    def _refuse_swapped(self, name: str, error: OSError, *, folder: bool) -> None:
        """After ``os.open`` of ``name`` failed: refuse if a link was in the way, even one gone
        again (Linux answers ENOTDIR for a link opened with O_DIRECTORY | O_NOFOLLOW)."""
        found = self.entry(name)
        now = None if found is None else found.st_mode
        if (
            error.errno == errno.ELOOP
            or (now is not None and stat.S_ISLNK(now))
            or (folder and error.errno == errno.ENOTDIR and now is not None and stat.S_ISDIR(now))
        ):
            raise LinkRefused(
                f"{self.shown(name)} is a symbolic link (or was, a moment ago); {self.hint}"
            ) from None

    def _fallback_folder(self, name: str) -> SafeDir:
        found = self.entry(name)
        if found is None:
            raise FileNotFoundError(2, "no such folder", self.shown(name))
        if not stat.S_ISDIR(found.st_mode):
            raise NotADirectoryError(20, "not a folder", self.shown(name))
        return SafeDir(self.path / name, None, label=self.shown(name), hint=self.hint)


def _dup(fd: int | None) -> int | None:
    return None if fd is None else os.dup(fd)


def _chmod(file: BinaryIO, at: tuple[str, int | None], mode: int) -> None:
    if os.chmod in os.supports_fd:
        os.chmod(file.fileno(), mode)  # noqa: PTH101 (a descriptor)
    else:  # Windows: by path
        Path(at[0]).chmod(mode)


def _utime(file: BinaryIO, at: tuple[str, int | None], facts: os.stat_result) -> None:
    file.flush()
    times = (facts.st_atime_ns, facts.st_mtime_ns)
    if os.utime in os.supports_fd:
        os.utime(file.fileno(), ns=times)
    else:  # Windows: by path
        os.utime(at[0], ns=times)
