import asyncio
import logging

import pytest

from hybridmcp_app.core.background_tasks import BackgroundTasks
from tests.helpers.waiting import PATIENCE_S


async def test_shutdown_cancels_running_tasks() -> None:
    tasks = BackgroundTasks(asyncio.get_running_loop())
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = tasks.spawn(forever(), name="forever")
    await started.wait()
    assert tasks.running == ["forever"]
    assert await tasks.shutdown(timeout_s=PATIENCE_S) == []
    assert task.cancelled()


async def test_a_task_that_ignores_cancellation_is_reported_not_awaited_forever() -> None:
    tasks = BackgroundTasks(asyncio.get_running_loop())
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = tasks.spawn(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    # The short deadline is the point, and it is always met: the task never stops by itself.
    assert await tasks.shutdown(timeout_s=0.1) == ["stubborn"]
    release.set()
    task.cancel()
    await asyncio.wait([task])


async def test_a_failing_task_is_logged_with_its_name(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks(asyncio.get_running_loop())

    async def broken() -> None:
        raise ValueError("index is corrupt")

    task = tasks.spawn(broken(), name="reindex")
    with caplog.at_level(logging.ERROR, logger="hybridmcp.tasks"):
        await asyncio.wait([task])
        await asyncio.sleep(0)
    assert "background task reindex failed" in caplog.text
    assert tasks.running == []


async def test_no_task_can_start_once_shutdown_began() -> None:
    tasks = BackgroundTasks(asyncio.get_running_loop())
    assert not tasks.closed
    await tasks.shutdown()
    assert tasks.closed

    async def late() -> None:
        return None

    with pytest.raises(RuntimeError, match="shutting down"):
        tasks.spawn(late(), name="late")


async def test_cancelling_all_at_once_refuses_new_tasks_and_cancels_the_running_ones() -> None:
    tasks = BackgroundTasks(asyncio.get_running_loop())
    started = asyncio.Event()

    async def waits() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = tasks.spawn(waits(), name="waits")
    await started.wait()
    assert tasks.cancel_all() == [task]
    assert tasks.closed
    with pytest.raises(RuntimeError, match="shutting down"):
        tasks.spawn(waits(), name="late")
    assert await tasks.shutdown() == []
    assert task.cancelled()
