"""Small real file systems for the library's storage-fault tests: a full one, a read-only one.

Mounting needs root (``can_mount``); the tests that need it say so when it is not there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.waiting import PATIENCE_S


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextmanager
def small_tmpfs(path: Path, size: str = "16m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path``, unmounted (lazily if busy) afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        done = subprocess.run(["umount", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)


def remount(path: Path, *, read_only: bool) -> None:
    """Remount ``path``. Made read-only right after the library closed, the kernel may still
    count a file of it as open for writing (a file closed by one of Chroma's threads is
    released when that thread next runs, which a busy machine delays): wait for that."""
    option = "remount,ro" if read_only else "remount,rw"
    deadline = time.monotonic() + PATIENCE_S
    while True:
        done = subprocess.run(["mount", "-o", option, str(path)], capture_output=True, text=True)
        if done.returncode == 0:
            return
        if "busy" not in done.stderr or time.monotonic() > deadline:
            raise AssertionError(f"mount -o {option} {path}: {done.stderr.strip()}")
        time.sleep(0.1)


def fill(folder: Path, leave_bytes: int) -> Path:
    """Write a file taking all the free space of ``folder``'s disk but ``leave_bytes``."""
    filler = folder / "filler.bin"
    size = shutil.disk_usage(folder).free - leave_bytes
    block = b"\0" * (1024 * 1024)
    with filler.open("wb") as file:
        while size > 0:
            file.write(block[: min(size, len(block))])
            size -= len(block)
    return filler
