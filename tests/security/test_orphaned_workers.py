"""A parent killed with SIGKILL leaves no parse worker (nor resource tracker) running."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers.documents_corpus import pdf_bytes
from tests.helpers.waiting import PATIENCE_S

REPOSITORY = Path(__file__).resolve().parents[2]

# Starts a batch, waits for its first result (so the workers exist), prints every process it has
# started, and holds the pool open: when it is killed its workers are parsing the rest of the
# batch or, done with it, waiting for more.
PARENT = """
import sys, time
from pathlib import Path
import psutil
from hybridmcp_app.config.settings import DEFAULT_DOCUMENT_EXTENSIONS
from hybridmcp_app.documents.document_scanner import scan_documents
from hybridmcp_app.documents.parse_pool import parse_many

files = scan_documents([Path(sys.argv[1])], DEFAULT_DOCUMENT_EXTENSIONS).files
results = parse_many(files, workers=2)
next(results)
print(*(child.pid for child in psutil.Process().children(recursive=True)), flush=True)
time.sleep(3600)
"""


def _gone(process: psutil.Process) -> bool:
    """Ended: no longer running, or a zombie (it runs nothing and holds nothing any more)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _described(process: psutil.Process) -> str:
    try:
        return f"{process.pid}: {' '.join(process.cmdline())}"
    except psutil.Error:
        return f"{process.pid}"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killing_the_parent_of_a_parse_batch_ends_its_workers_and_resource_tracker(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    book = pdf_bytes(40, lines=30)
    for index in range(40):
        (folder / f"book{index}.pdf").write_bytes(book)
    errors = tmp_path / "parent-stderr.txt"
    with errors.open("wb") as stderr:
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, str(folder)],
            cwd=REPOSITORY,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert parent.stdout is not None
    children: list[psutil.Process] = []
    try:
        line = parent.stdout.readline()
        children = [psutil.Process(int(pid)) for pid in line.split()]
        assert len(children) >= 3, (  # two workers and multiprocessing's resource tracker
            f"the parent started {line!r}; its errors: {errors.read_text()}"
        )

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)

        deadline = time.monotonic() + PATIENCE_S  # a safety net: they go within a second
        while not all(_gone(child) for child in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [_described(child) for child in children if not _gone(child)]
        assert left == [], "these outlived their killed parent"
    finally:
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=60)
        parent.stdout.close()
