"""``ChangeNotice``: "something changed" told to listeners at most once per event-loop turn.

Reading an ``mcp.json`` of a thousand servers attaches a thousand supervisors in one turn; a
listener that walks every server (the MCP tab, the chat's tool list) then runs once, not once
per server (which made loading quadratic: minutes, the window frozen, SIGTERM unheard).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

Listener = Callable[[], None]


class ChangeNotice:
    """Listeners run on the next turn of the running loop (at once when no loop runs)."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._listeners: list[Listener] = []
        self._pending = False

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        """Note a change; the listeners hear of it once, however many follow in this turn."""
        if self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): tell them now
            self._notify()
            return
        self._pending = True
        loop.call_soon(self._notify)

    def _notify(self) -> None:
        self._pending = False
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # one listener's bug must not silence the others
                self._log.exception("change listener failed")
