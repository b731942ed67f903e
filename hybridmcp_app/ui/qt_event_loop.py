"""The app's event loop: asyncio running on Qt's (qasync), with plain threads for blocking work."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import qasync
from PySide6.QtWidgets import QApplication


def create_event_loop(app: QApplication) -> qasync.QEventLoop:
    """A qasync loop, made current. ``asyncio.to_thread`` runs on ordinary Python threads:
    qasync's default QThread executor leaves QObjects that Qt later destroys from the wrong
    thread ("QObject::~QObject: Timers cannot be stopped from another thread")."""
    loop = qasync.QEventLoop(app)
    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="hybridmcp-blocking"))
    asyncio.set_event_loop(loop)
    return loop
