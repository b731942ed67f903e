"""A folder swapped for a link while the workspace writes (issue #19, hole 2): 0 escapes.

One side calls the tools at least 300 times (write_file, edit_file, restore_snapshot, each change
also writing a snapshot; or backup) while another process keeps exchanging a folder on the way
with a link to a folder outside the root, atomically (``renameat2(RENAME_EXCHANGE)`` on Linux,
``renamex_np(RENAME_SWAP)`` on macOS), so the name always exists and is a folder one instant and
a link out the next. A call may land in the real folder (wherever it is by then) or be refused;
afterwards not one file, final or temporary, may exist outside the root, and nothing from outside
may have been copied in. The calls go on past 300 until both sides of the race were seen (some
calls done, some refused for a link), so the race is shown to be real on any machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, WorkspaceError
from hybridmcp_app.workspace.workspace_service import WorkspaceService

ROUNDS = 300  # calls at least, in each race
MAX_ROUNDS = 20 * ROUNDS  # a safety net: both sides of the race are seen long before
REAL_SPINS = 50  # system calls the swapper makes with the real folder in place, between swaps
FILES_BACKED_UP = 20


# The attacker: another process (true parallelism, no shared GIL) that exchanges two names
# atomically until SIGTERM, then prints how many exchanges it made.
SWAPPER = r"""
import ctypes, os, signal, sys

real, parked, spins = sys.argv[1].encode(), sys.argv[2].encode(), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(True))


def exchange():
    if sys.platform == "darwin":
        done = libc.renamex_np(real, parked, 2)  # RENAME_SWAP
    else:
        done = libc.renameat2(-100, real, -100, parked, 2)  # AT_FDCWD, RENAME_EXCHANGE
    if done != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


swaps = 0
print("ready", flush=True)
while not stop:
    exchange()  # the link in place
    exchange()  # and the folder back
    swaps += 2
    for _ in range(spins):  # so that some calls go through untouched
        os.lstat(real)
print(swaps, flush=True)
"""

pytestmark = pytest.mark.skipif(
    sys.platform not in ("linux", "darwin"), reason="needs an atomic exchange of two names"
)


class Swapper:
    """The swapper process: exchanges ``real`` (a folder) and ``parked`` (made a link to
    ``outside``) from ``start`` to ``finish``, leaving the folder in place for ``spins`` system
    calls after each exchange and back."""

    def __init__(self, real: Path, parked: Path, outside: Path, spins: int) -> None:
        parked.symlink_to(outside, target_is_directory=True)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SWAPPER, str(real), str(parked), str(spins)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None

    def start(self) -> None:
        """Wait until it is swapping."""
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == "ready\n"

    def finish(self) -> int:
        """Stop it; how many exchanges it made."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, out
        return int(out)


class Changes:
    """Round after round: write ``path``, edit it, restore its last snapshot."""

    def __init__(self, service: WorkspaceService, path: str) -> None:
        self.service, self.path = service, path
        self.snapshots: list[str] = []

    async def __call__(self, round_: int) -> None:
        if round_ % 3 == 0 or not self.snapshots:
            written = await self.service.write_file(self.path, f"version {round_}\n")
            snapshot = written.snapshot
        elif round_ % 3 == 1:
            snapshot = (await self.service.edit_file(self.path, "version", "edited")).snapshot
        else:
            snapshot = (await self.service.restore_snapshot(self.snapshots[-1])).snapshot
        if snapshot is not None:
            self.snapshots.append(snapshot.id)


def both_sides_seen(outcomes: Counter[str]) -> bool:
    return outcomes["done"] > 0 and outcomes["link refused"] > 0


async def hammer(call: Callable[[int], Awaitable[object]], rounds: int) -> Counter[str]:
    """Make the call ``rounds`` times, and on until both sides of the race were seen."""
    outcomes: Counter[str] = Counter()
    round_ = 0
    while round_ < rounds or (not both_sides_seen(outcomes) and round_ < MAX_ROUNDS):
        try:
            await call(round_)
            outcomes["done"] += 1
        except WorkspaceError as refused:  # anything else fails the test
            outcomes["link refused" if "symbolic link" in str(refused) else "refused"] += 1
        round_ += 1
    return outcomes


def entries(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def texts_below(folder: Path) -> list[str]:
    """The text of every file below ``folder``, links not followed."""
    return [
        (Path(here) / name).read_text()
        for here, _folders, names in os.walk(folder)
        for name in names
        if not (Path(here) / name).is_symlink()
    ]


async def race(
    call: Callable[[int], Awaitable[object]],
    real: Path,
    parked: Path,
    outside: Path,
    *,
    spins: int = REAL_SPINS,
    rounds: int = ROUNDS,
) -> None:
    """Make the call against the swapper, which exchanges ``real`` with ``parked``, a link to
    ``outside``: 0 escapes, and both sides of the race were seen."""
    before = await asyncio.to_thread(entries, outside)
    swapper = Swapper(real, parked, outside, spins)
    try:
        await asyncio.to_thread(swapper.start)
        outcomes = await hammer(call, rounds)
    finally:
        swaps = await asyncio.to_thread(swapper.finish)

    assert await asyncio.to_thread(entries, outside) == before  # 0 escapes
    assert swaps > 0
    assert both_sides_seen(outcomes), outcomes


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "file.txt").write_text("version -1\n")
    (root / "notes.md").write_text("version -1\n")
    (tmp_path / "outside").mkdir()
    return root


async def test_swapping_the_files_folder_for_a_link_out_lets_no_write_escape(root: Path) -> None:
    changes = Changes(WorkspaceService([root]), "sub/file.txt")

    # more rounds: the code before the fix let one write in a hundred or so out, not more
    await race(
        changes, root / "sub", root / "parked", root.parent / "outside", rounds=1000, spins=0
    )


async def test_swapping_the_snapshots_folder_for_a_link_out_lets_no_snapshot_escape(
    root: Path,
) -> None:
    service = WorkspaceService([root])
    await service.write_file("notes.md", "the snapshots folder exists\n")
    snapshots = root / INTERNAL_DIR / "snapshots"

    # parked in the root: a link inside the server's folder would have every call refused
    await race(Changes(service, "notes.md"), snapshots, root / "parked", root.parent / "outside")


async def test_swapping_the_backups_folder_for_a_link_out_lets_no_copy_escape(root: Path) -> None:
    service = WorkspaceService([root])
    await service.backup(["sub"])
    backups = root / INTERNAL_DIR / "backups"

    async def back_up(_round: int) -> None:
        await service.backup(["sub", "notes.md"])

    await race(back_up, backups, root / "parked", root.parent / "outside")


async def test_swapping_a_folder_being_backed_up_for_a_link_out_copies_nothing_from_outside(
    root: Path,
) -> None:
    outside = root.parent / "outside"
    (root / "sub" / "deeper").mkdir()
    for number in range(FILES_BACKED_UP):  # the same names inside and out
        (root / "sub" / "deeper" / f"{number}.txt").write_text("kept\n")
        (outside / f"{number}.txt").write_text("SECRET\n")
    service = WorkspaceService([root])

    async def back_up(_round: int) -> None:
        await service.backup(["sub"])

    # a short real state: the copy must meet the link between the plan and the copying
    await race(back_up, root / "sub" / "deeper", root / "parked", outside, spins=5)

    copied = await asyncio.to_thread(texts_below, root / INTERNAL_DIR / "backups")
    assert "kept\n" in copied  # some backups copied the folder
    assert set(copied) == {"kept\n", "version -1\n"}  # and none what lies outside
