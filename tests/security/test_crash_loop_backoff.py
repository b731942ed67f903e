"""A server that exits at once is restarted after the delays its status announces (0.5, 1, 2,
4 s, measured between the real start times of its processes) and only then marked failed; a
stop during such a wait ends it at once."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from pathlib import Path

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.server_status import RestartPolicy, ServerState, ServerStatus
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor
from tests.helpers.waiting import PATIENCE_S, wait_until

# Appends its start time (the wall clock: the same for every process) to argv[1], then fails.
EXITS_AT_ONCE = (
    "import sys, time; open(sys.argv[1], 'a').write(repr(time.time()) + '\\n'); sys.exit(3)"
)
CLOCK_SLACK_S = 0.05  # below the announced delay, for clock granularity; none above is needed


def exits_at_once(starts: Path) -> StdioServerConfig:
    return StdioServerConfig(command=sys.executable, args=("-c", EXITS_AT_ONCE, str(starts)))


def start_times(starts: Path) -> list[float]:
    return [float(line) for line in starts.read_text().split()] if starts.exists() else []


async def test_a_crash_looping_server_waits_the_announced_delays_before_it_is_failed(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts.txt"
    policy = RestartPolicy()  # the app's own: 0.5 s, doubling, failed at the 5th failure
    supervisor = ServerSupervisor(
        "crashy", lambda: exits_at_once(starts), tmp_path / "crashy.log", policy
    )
    seen: list[tuple[float, ServerStatus]] = []
    supervisor.subscribe(lambda status: seen.append((time.time(), status)))
    try:
        supervisor.start()
        await wait_until(lambda: supervisor.status.state is ServerState.FAILED)
    finally:
        await supervisor.stop()

    announced = [
        status.message.rsplit("restarting in ", 1)[1]
        for _, status in seen
        if status.state is ServerState.RESTARTING
    ]
    assert announced == ["0.5 s", "1.0 s", "2.0 s", "4.0 s"]
    times = start_times(starts)
    assert len(times) == policy.crash_loop_count
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, delay in zip(gaps, (0.5, 1.0, 2.0, 4.0), strict=True):
        assert gap >= delay - CLOCK_SLACK_S, (gaps, announced)
    failed_at, failed = next((at, s) for at, s in seen if s.state is ServerState.FAILED)
    assert failed_at >= times[-1]
    assert failed_at - times[0] >= 7.5 - CLOCK_SLACK_S
    assert failed.message.startswith(f"crash loop ({policy.crash_loop_count} failures)")


async def test_a_stop_during_the_backoff_ends_it_at_once_and_starts_nothing_more(
    tmp_path: Path,
) -> None:
    starts = tmp_path / "starts.txt"
    policy = RestartPolicy(first_delay_s=3600, max_delay_s=3600)  # an hour: only a stop ends it
    supervisor = ServerSupervisor(
        "crashy", lambda: exits_at_once(starts), tmp_path / "crashy.log", policy
    )
    backing_off = asyncio.Event()
    supervisor.subscribe(
        lambda status: backing_off.set() if status.state is ServerState.RESTARTING else None
    )
    supervisor.start()
    try:
        async with asyncio.timeout(PATIENCE_S):
            await backing_off.wait()
        assert supervisor.status.message.endswith("restarting in 3600.0 s")
        async with asyncio.timeout(PATIENCE_S):  # a safety net: the hour's wait is not served
            await supervisor.stop()
    finally:
        await supervisor.stop()
    assert supervisor.status.state is ServerState.STOPPED
    assert not supervisor.running
    assert len(start_times(starts)) == 1
