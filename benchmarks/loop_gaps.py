"""Event-loop gaps on the GUI thread: a precise timer that notes when it fires, the gaps between
its firings, and where the time in a long gap went.

A gap is the time between two firings of a ``PROBE_MS`` timer (``PROBE_MS`` when nothing stalls
the loop); one over ``STALL_MS`` is a stall. Each firing also reads the GUI thread's scheduler
statistics (Linux ``schedstat``), so a stall splits into time the thread ran, time it was
runnable with no free core, and time it was off a core and not runnable. Beside them: garbage
collection pauses on the GUI thread, the cores this process and everything else used, and a
CPU-heavy task to run in worker threads. A part of ``benchmarks.ui_responsiveness``.
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from PySide6.QtCore import Qt, QTimer

PROBE_MS = 10
STALL_MS = 20.0  # a gap longer than this is a stall, and gets attributed


@dataclass(frozen=True)
class Tick:
    at: float  # perf_counter seconds
    cpu_ms: float  # the GUI thread's time on a core so far (scheduler statistics)
    runq_ms: float  # its time runnable but waiting for a core so far


@dataclass(frozen=True)
class Gap:
    ms: float
    cpu_ms: float  # of which the GUI thread ran
    runq_ms: float  # of which it was runnable, waiting for a free core

    @property
    def off_cpu_ms(self) -> float:
        """Neither running nor runnable: waiting for the GIL, or for the timer to be due."""
        return max(0.0, self.ms - self.cpu_ms - self.runq_ms)


class SchedStat:
    """The calling thread's scheduler statistics (Linux ``schedstat``); zeros elsewhere."""

    def __init__(self) -> None:
        self._path = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self.available = self._path.exists()

    def read(self) -> tuple[float, float]:
        if not self.available:
            return 0.0, 0.0
        on_cpu_ns, waiting_ns, _ = self._path.read_text().split()
        return int(on_cpu_ns) / 1e6, int(waiting_ns) / 1e6


class GapProbe:
    """A 10 ms timer on the GUI thread that notes when it fires, only while recording."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.schedstat = SchedStat()
        self._ticks: list[Tick] = []

    def _tick(self) -> None:
        self._ticks.append(Tick(time.perf_counter(), *self.schedstat.read()))

    def start(self) -> None:
        self._ticks = []
        self.timer.start()

    def stop(self) -> list[Tick]:
        self.timer.stop()
        return self._ticks


def gaps_between(ticks: list[Tick], start: float = 0.0, end: float = float("inf")) -> list[Gap]:
    """Gaps between consecutive firings that both fall within ``start``..``end``."""
    inside = [tick for tick in ticks if start <= tick.at <= end]
    return [
        Gap((b.at - a.at) * 1000, b.cpu_ms - a.cpu_ms, b.runq_ms - a.runq_ms)
        for a, b in itertools.pairwise(inside)
    ]


class GcPauses:
    """How long each garbage collection on the GUI thread took (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []  # (start, milliseconds)
        self._gui = threading.get_ident()
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if threading.get_ident() != self._gui:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((self._started, (time.perf_counter() - self._started) * 1000))

    def within(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.pauses if start <= at <= end]


class CpuShares:
    """Cores used, between ``start`` and ``stop``, by this process with its children (the
    provider's server) and by everything else on the machine."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self._start = self._read()

    def _ours(self) -> float:
        total = 0.0
        for process in (self._me, *self._me.children(recursive=True)):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def _read(self) -> tuple[float, float, float]:
        machine = psutil.cpu_times()
        busy = sum(
            getattr(machine, name, 0.0)
            for name in ("user", "nice", "system", "irq", "softirq", "steal")
        )
        return time.perf_counter(), busy, self._ours()

    def stop(self) -> tuple[float, float]:
        """(cores this process and its server used, cores other processes used)."""
        now, busy, ours = self._read()
        wall = max(now - self._start[0], 1e-9)
        ours_cores = (ours - self._start[2]) / wall
        return ours_cores, max(0.0, (busy - self._start[1]) / wall - ours_cores)


def burn_cpu(stop: threading.Event) -> int:
    """A CPU-heavy background task: pure-Python hashing until told to stop."""
    rounds, digest = 0, b"hybridmcp"
    while not stop.is_set():
        for _ in range(2_000):
            digest = hashlib.sha256(digest).digest()
        rounds += 1
    return rounds


def percentile(values: list[float], q: int) -> float:
    return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1])


def summary(gaps: list[Gap]) -> dict[str, float]:
    ms = [gap.ms for gap in gaps]
    return {
        "p50": statistics.median(ms),
        "p99": percentile(ms, 99),
        "max": max(ms),
        "n": float(len(ms)),
        "late_p99": max(0.0, percentile(ms, 99) - PROBE_MS),
        "stalls": float(sum(1 for m in ms if m > STALL_MS)),
    }


def attribution(gaps: list[Gap]) -> dict[str, float]:
    """Where the time inside gaps over STALL_MS went: the GUI thread running; runnable with no
    free core; off a core and not runnable (the sleep until the timer is due, about 10 ms a gap,
    and waiting for the GIL)."""
    stalls = [gap for gap in gaps if gap.ms > STALL_MS]
    total = sum(gap.ms for gap in stalls) or 1.0
    return {
        "stall_ms_total": sum(gap.ms for gap in stalls),
        "stall_gui_cpu_share": sum(gap.cpu_ms for gap in stalls) / total,
        "stall_runqueue_share": sum(gap.runq_ms for gap in stalls) / total,
        "stall_off_cpu_share": sum(gap.off_cpu_ms for gap in stalls) / total,
        "stall_gui_cpu_ms_max": max((gap.cpu_ms for gap in stalls), default=0.0),
    }
