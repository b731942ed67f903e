"""The file that says where the app shares its library: ``sharing/documents-endpoint.json`` in
the data dir, with the URL, the app's process id and, when the app has no keychain, the bearer
token made for this run.

The token makes the file a secret, so it is kept as one: the folder is made 0700 and the file
0600, both must belong to this user, and the reader (a ``documents`` server relaying to the app)
checks the same before believing either, so another user can neither read the token nor plant an
endpoint of their own. The data dir itself must belong to this user and not be writable by
everyone (a group-writable one is accepted: many systems give each user a group of their own).
On Windows the user's profile folders are private already and none of this is checked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

import psutil
from pydantic import Field

from hybridmcp_app.config.atomic_files import write_text_atomically
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel

log = logging.getLogger("hybridmcp.mcp.documents")
SHARING_DIR = "sharing"
ENDPOINT_FILE_NAME = "documents-endpoint.json"
CHECKS_OWNERS = hasattr(os, "getuid")  # POSIX


class SharingRefused(HybridMCPError):
    """The endpoint cannot be advertised safely, so the library is not shared."""


class DocumentsEndpoint(FrozenModel):
    """Where the app serves its library, which process does, and (without a keychain) the
    token it needs."""

    url: str
    pid: int
    token: str | None = Field(default=None, repr=False)


def endpoint_file(data_dir: Path) -> Path:
    return data_dir / SHARING_DIR / ENDPOINT_FILE_NAME


def _problem(path: Path, info: os.stat_result, *, private: bool) -> str | None:
    """Why ``path`` (its lstat ``info``) cannot be trusted with the endpoint, or None."""
    if not CHECKS_OWNERS:
        return None
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link"
    if info.st_uid != os.getuid():
        return f"{path} belongs to another user"
    if private and info.st_mode & 0o077:
        return f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o})"
    if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
        return f"{path} can be changed by every user"
    return None


def private_folder(data_dir: Path) -> Path:
    """The sharing folder in ``data_dir``, made (or tightened to) 0700; ``SharingRefused``
    naming what cannot be trusted."""
    folder = data_dir / SHARING_DIR
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        info = folder.lstat()
        problem = _problem(data_dir, data_dir.stat(), private=False) or _problem(
            folder, info, private=False
        )
        if problem is None and not stat.S_ISDIR(info.st_mode):
            problem = f"{folder} is not a folder"
        if problem is None and CHECKS_OWNERS and stat.S_IMODE(info.st_mode) != 0o700:
            folder.chmod(0o700)  # ours, made with a looser umask: tightened
    except OSError as error:
        problem = f"{folder} cannot be made private ({error.strerror or error})"
    if problem is not None:
        raise SharingRefused(f"{problem}. Make it yours and private (chmod 700), then restart.")
    return folder


def write_endpoint(data_dir: Path, endpoint: DocumentsEndpoint) -> Path:
    """Write ``endpoint`` (0600) into the private sharing folder; returns the file."""
    path = private_folder(data_dir) / ENDPOINT_FILE_NAME
    write_text_atomically(path, endpoint.model_dump_json(), mode=0o600)
    return path


def _read_private(path: Path) -> str:
    """The text of ``path`` if it and its folder are this user's alone; ``SharingRefused``
    if not, ``OSError`` if there is no such file."""
    problem = _problem(path.parent, path.parent.lstat(), private=True)
    if problem is None:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        with os.fdopen(os.open(path, flags), encoding="utf-8") as file:
            info = os.fstat(file.fileno())
            problem = _problem(path, info, private=True)
            if problem is None and not stat.S_ISREG(info.st_mode):
                problem = f"{path} is not a file"
            if problem is None:
                return file.read()
    raise SharingRefused(problem)


def read_endpoint(data_dir: Path) -> DocumentsEndpoint | None:
    """The app's endpoint, if one is written, private to this user, and its process alive."""
    try:
        endpoint = DocumentsEndpoint.model_validate_json(_read_private(endpoint_file(data_dir)))
    except SharingRefused as refused:
        log.warning("ignored the library's sharing endpoint: %s", refused)
        return None
    except (OSError, ValueError):  # none, unreadable, not UTF-8, not an endpoint
        return None
    return endpoint if psutil.pid_exists(endpoint.pid) else None


def remove_endpoint(data_dir: Path) -> None:
    """Remove the endpoint file if this process wrote it."""
    with contextlib.suppress(OSError):
        if (shared := read_endpoint(data_dir)) is not None and shared.pid == os.getpid():
            endpoint_file(data_dir).unlink()
