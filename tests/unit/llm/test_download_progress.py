"""How often a download reports its progress, and what it says."""

from __future__ import annotations

import itertools
import time

from hybridmcp_app.llm.model_hub.download_progress import (
    PROGRESS_EVERY_S,
    DownloadProgress,
    Meter,
)


def test_progress_is_reported_at_once_then_at_most_ten_times_a_second_and_at_the_end() -> None:
    seen: list[DownloadProgress] = []
    meter = Meter(total=20_000 * 100, done=0, report=seen.append)
    start = time.monotonic()
    for _ in range(20_000):
        meter.add(100)
    meter.add(0, final=True)
    elapsed = time.monotonic() - start
    assert seen[0].done_bytes == 100  # the first bytes are shown at once
    assert seen[-1].done_bytes == seen[-1].total_bytes == 20_000 * 100
    assert len(seen) <= 2 + elapsed / PROGRESS_EVERY_S + 1
    assert all(a.done_bytes <= b.done_bytes for a, b in itertools.pairwise(seen))


def test_a_resumed_download_with_no_new_bytes_yet_has_no_speed_and_no_time_left() -> None:
    seen: list[DownloadProgress] = []
    meter = Meter(total=1000, done=400, report=seen.append)
    meter.add(0, final=True)
    assert seen == [
        DownloadProgress(done_bytes=400, total_bytes=1000, bytes_per_s=0.0, seconds_left=None)
    ]
