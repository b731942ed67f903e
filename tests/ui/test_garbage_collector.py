"""Garbage collection on the GUI thread: full collections wait while answers stream."""

import gc
import time

import pytest
from PySide6.QtWidgets import QApplication

from hybridmcp_app.ui import qt_garbage_collector
from hybridmcp_app.ui.qt_garbage_collector import QtGarbageCollector


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Which generations the collector collects, with generation 2 over its threshold."""
    done: list[int] = []
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, gc.get_threshold()[2] + 1))

    def collect(generation: int = 2) -> int:
        done.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    return done


def test_a_full_collection_waits_while_busy_and_runs_when_idle(
    qapp: QApplication, collections: list[int]
) -> None:
    collector = QtGarbageCollector()
    busy = True
    collector.defer_full_collections_while(lambda: busy)
    collector.check()
    assert collections == []
    busy = False
    collector.check()
    assert collections == [2]
    collector._timer.stop()


def test_a_full_collection_is_not_put_off_forever(
    qapp: QApplication, collections: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = QtGarbageCollector()
    collector.defer_full_collections_while(lambda: True)
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    collector.check()
    now[0] += qt_garbage_collector.MAX_FULL_DEFERRAL_S + 1
    collector.check()
    assert collections == [2]
    collector._timer.stop()
