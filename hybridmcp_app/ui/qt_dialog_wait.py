"""Waiting for a dialog's answer in a coroutine: the event loop keeps running meanwhile."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QDialog


async def dialog_closed(dialog: QDialog) -> None:
    """Open ``dialog`` (window-modal) and return once it closes; when the waiting coroutine is
    cancelled first (the turn stopped, the server gave up) the dialog is closed as rejected.
    Either way it is deleted afterwards: read its answer from the Python object."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finished(_code: int) -> None:
        if not done.done():
            done.set_result(None)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        await done
    finally:
        if dialog.isVisible():
            dialog.reject()
        dialog.deleteLater()
