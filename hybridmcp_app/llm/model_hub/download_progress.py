"""Where a download stands, as it is reported: bytes so far, speed and time left, ≤ 10 a second."""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

PROGRESS_EVERY_S = 0.1  # progress is reported at most this often (and once at the end)
_SPEED_WINDOW_S = 3.0  # the speed is measured over about this many seconds


class DownloadProgress(BaseModel):
    """Where a download stands: bytes so far, speed and time left (None until known)."""

    model_config = ConfigDict(frozen=True)

    done_bytes: int
    total_bytes: int
    bytes_per_s: float
    seconds_left: float | None


ProgressCallback = Callable[[DownloadProgress], None]


class Meter:
    """Counts the bytes; reports the first ones at once, then at most every 0.1 s, and the end."""

    def __init__(self, total: int, done: int, report: ProgressCallback | None) -> None:
        self.total, self.done, self._report = total, done, report
        self._samples: list[tuple[float, int]] = [(time.monotonic(), done)]
        self._last = 0.0

    def restart(self) -> None:
        """The download starts over from byte 0."""
        self.done = 0
        self._samples = [(time.monotonic(), 0)]

    def add(self, count: int, *, final: bool = False) -> None:
        self.done += count
        if self._report is None:
            return
        now = time.monotonic()
        if not final and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > _SPEED_WINDOW_S:
            self._samples.pop(0)
        (t0, d0) = self._samples[0]
        speed = (self.done - d0) / (now - t0) if now > t0 else 0.0
        left = (self.total - self.done) / speed if speed > 0 else None
        self._report(DownloadProgress(done_bytes=self.done, total_bytes=self.total,
                                      bytes_per_s=speed, seconds_left=left))  # fmt: skip
