"""The app's event loop: asyncio running on Qt's (qasync), with plain threads for blocking work."""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

import qasync
from PySide6.QtWidgets import QApplication

GIL_SWITCH_INTERVAL_S = 0.001


def create_event_loop(app: QApplication) -> qasync.QEventLoop:
    """A qasync loop, made current. ``asyncio.to_thread`` runs on ordinary Python threads:
    qasync's default QThread executor leaves QObjects that Qt later destroys from the wrong
    thread ("QObject::~QObject: Timers cannot be stopped from another thread").

    Python threads busy with Python code (parsing, a model's token loop) hold the GIL for up to
    the switch interval each time the GUI thread asks for it: 5 ms by default, which piles up
    into 30-300 ms stalls with two such threads (benchmarks.ui_responsiveness). 1 ms keeps the
    loop's gaps under 20 ms at a small cost in switching."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    loop = qasync.QEventLoop(app)
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="hybridmcp-blocking"))
    asyncio.set_event_loop(loop)
    return loop
