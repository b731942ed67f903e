"""The models folder on disk: safe names, folders opened without following links, free space,
and the unfinished downloads (``<file>.part`` with ``<file>.part.json``) it holds.

Each download lands in ``models/<owner>/<repo>/<file>``; every folder on the way is opened with
``O_NOFOLLOW`` relative to its parent, so a link planted there is refused, never followed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from hybridmcp_app.llm.model_hub.download_errors import ModelDownloadError, mb
from hybridmcp_app.llm.model_hub.hub_client import HubFile, quantization_of

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
SPACE_MARGIN = 64 * 1024 * 1024  # left free after the download


def check_names(file: HubFile) -> list[str]:
    """The folders and file name below the models folder: owner, repo, and the file's path."""
    parts = [*file.repo_id.split("/"), *file.filename.split("/")]
    for part in parts:
        if part in (".", "..") or not _SAFE_NAME.fullmatch(part):
            raise ModelDownloadError(f"refusing the unsafe name {part!r} in {file.repo_id}")
    if not parts[-1].lower().endswith(".gguf"):
        raise ModelDownloadError(f"{file.filename} is not a GGUF file")
    return parts


def target_path(models_dir: Path, file: HubFile) -> Path:
    """Where ``file`` lands: ``models/<owner>/<repo>/<file>``."""
    return models_dir.joinpath(*check_names(file))


class ModelFolder:
    """An open folder; children opened with ``dir_fd`` and ``O_NOFOLLOW`` (no links followed)."""

    def __init__(self, fd: int, label: str) -> None:
        self.fd, self.label = fd, label

    @classmethod
    def open_tree(cls, root: Path, parts: list[str]) -> ModelFolder:
        """Open (making them) ``root/<parts…>``; raises if any of them is a link."""
        root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(root, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
        except OSError as error:
            raise ModelDownloadError(f"cannot open the models folder {root}: {error}") from None
        folder = cls(fd, str(root))
        for part in parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=folder.fd)
            try:
                child = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folder.fd)
            except OSError as error:
                folder.close()
                raise ModelDownloadError(
                    f"{folder.label}/{part} is not a plain folder (a link?): {error.strerror}"
                ) from None
            folder.close()
            folder = cls(child, f"{folder.label}/{part}")
        return folder

    def close(self) -> None:
        os.close(self.fd)

    def entry(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def open_file(self, name: str, flags: int) -> int:
        """A regular file in this folder (never through a link), opened with ``flags``."""
        fd = os.open(name, flags | _NOFOLLOW | _BINARY, 0o644, dir_fd=self.fd)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ModelDownloadError(f"{self.label}/{name} is not a regular file")
        return fd

    def read_text(self, name: str) -> str | None:
        try:
            fd = self.open_file(name, os.O_RDONLY)
        except (OSError, ModelDownloadError):
            return None
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            return handle.read(10_000)

    def write_text(self, name: str, text: str) -> None:
        fd = self.open_file(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.fd)

    def rename(self, old: str, new: str) -> None:
        os.rename(old, new, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def sync(self) -> None:
        """Make a rename in this folder survive a crash (where folders can be synced)."""
        with contextlib.suppress(OSError):
            os.fsync(self.fd)

    def check_space(self, needed: int, final: Path) -> None:
        """Raise unless ``needed`` bytes (and a margin) are free here."""
        if os.statvfs in os.supports_fd:
            found = os.statvfs(self.fd)
            free = found.f_bavail * found.f_frsize
        else:
            free = shutil.disk_usage(final.parent).free
        if needed + SPACE_MARGIN > free:
            raise ModelDownloadError(
                f"not enough free disk space for {final.name}: it needs {mb(needed)} more, "
                f"{mb(free)} are free in {final.parent}")  # fmt: skip


def state_text(file: HubFile) -> str:
    """What ``<file>.part.json`` holds: which version of which file the part belongs to."""
    return json.dumps({"repo_id": file.repo_id, "filename": file.filename, "commit": file.commit,
                       "sha256": file.sha256, "size": file.size})  # fmt: skip


class PartialDownload(BaseModel):
    """A download left unfinished (paused, cut off, or the app closed): resumable."""

    model_config = ConfigDict(frozen=True)

    file: HubFile
    done_bytes: int


def partial_downloads(models_dir: Path) -> list[PartialDownload]:
    """The unfinished downloads under ``models_dir`` (read from their ``.part.json``)."""
    found: list[PartialDownload] = []
    if not models_dir.is_dir():
        return found
    for state_path in sorted(models_dir.rglob("*.gguf.part.json")):
        try:
            data = json.loads(state_path.read_text(encoding="utf-8"))
            file = HubFile(repo_id=data["repo_id"], filename=data["filename"],
                           commit=data["commit"], size=data["size"], sha256=data["sha256"],
                           quantization=quantization_of(data["filename"]))  # fmt: skip
            if target_path(models_dir, file).with_name(state_path.name) != state_path:
                continue  # not where this file's part would be
            part = state_path.with_suffix("")
            done = part.stat().st_size if part.is_file() and not part.is_symlink() else 0
        except (OSError, ValueError, KeyError, TypeError, ModelDownloadError):
            continue  # an older or damaged state file: not offered
        found.append(PartialDownload(file=file, done_bytes=min(done, file.size)))
    return found


def discard_partial(models_dir: Path, file: HubFile) -> None:
    """Remove a cancelled download's part and state (never the finished file)."""
    parts = check_names(file)
    folder = ModelFolder.open_tree(models_dir, parts[:-1])
    try:
        folder.remove(f"{parts[-1]}.part")
        folder.remove(f"{parts[-1]}.part.json")
    finally:
        folder.close()
