"""The catalogue dialog's online source: searching the MCP Registry (``services.
mcp_registry_source``) when the user asks (Enter or Search), debounced, one search at a time;
"More results" fetches the next page. When the registry cannot be used, its state line says why
and that the offline catalogue still works."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.services.mcp_registry_entries import RegistryEntry
from hybridmcp_app.services.mcp_registry_source import (
    McpRegistrySource,
    RegistryAnswerRefused,
    RegistryPage,
    RegistryUnreachable,
)

DEBOUNCE_MS = 300
OFFLINE_STILL_WORKS = "the offline catalogue still works"
# (entries, whether they follow those already shown)
ShowEntries = Callable[[list[RegistryEntry], bool], None]


def left_out(page: RegistryPage) -> list[str]:
    """The servers of ``page`` that cannot be offered here, each with why."""
    reasons = [f"{s.name}: {'; '.join(s.skipped)}" for s in page.servers if not s.entries]
    return reasons + list(page.skipped)


def page_summary(page: RegistryPage, shown: int) -> str:
    """What a page brought: how many entries, and how many could not be offered."""
    text = f"{shown} found in the MCP Registry (not reviewed by HybridMCP)."
    if count := len(left_out(page)):
        text += f" {count} could not be offered here (point at this line for why)."
    return text + (" More results: press More." if page.next_cursor else "")


class QtRegistrySearch(QWidget):
    """The Search and More buttons and the state line; ``show`` receives the entries found."""

    def __init__(
        self,
        source: McpRegistrySource | None,
        tasks: BackgroundTasks,
        show: ShowEntries,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.source, self._tasks, self._show = source, tasks, show
        self.running: asyncio.Task[None] | None = None
        self._query = ""
        self._cursor: str | None = None
        self.search_button = QPushButton("Search", self)
        self.search_button.setAutoDefault(False)
        self.more_button = QPushButton("More", self)
        self.more_button.setAutoDefault(False)
        self.more_button.setEnabled(False)
        self.state = QLabel(self)
        self.state.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state, 1)
        layout.addWidget(self.search_button)
        layout.addWidget(self.more_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.more_button.clicked.connect(self.more)
        self.state.setText("Type a name and press Enter (or Search) to search the MCP Registry.")

    def request(self, query: str) -> None:
        """Search for ``query`` once the user stops asking for ``DEBOUNCE_MS``."""
        self._query, self._cursor = query.strip(), None
        self._timer.start()

    def cancel(self) -> None:
        """Drop the search waiting or running (the dialog closed)."""
        self._timer.stop()
        if self.running is not None:
            self.running.cancel()

    def more(self) -> None:
        """The next page of the last search."""
        if self._cursor is not None and self.running is None:
            self._spawn(self._cursor)

    def _start(self) -> None:
        if self.running is not None:
            self.running.cancel()
        self._spawn(None)

    def _spawn(self, cursor: str | None) -> None:
        if self.source is None:
            return
        self.more_button.setEnabled(False)
        self.state.setText(f"Searching the MCP Registry at {self.source.base_url}…")
        self.running = self._tasks.spawn(self._search(cursor), name="mcp-registry-search")

    async def _search(self, cursor: str | None) -> None:
        assert self.source is not None
        task = asyncio.current_task()
        try:
            page = await self.source.search(self._query, cursor)
        except RegistryUnreachable as error:
            self.state.setText(
                f"The MCP Registry cannot be reached: {error}; {OFFLINE_STILL_WORKS}."
            )
            return
        except RegistryAnswerRefused as error:
            self.state.setText(f"The MCP Registry's answer was refused: {error}; "
                               f"{OFFLINE_STILL_WORKS}.")  # fmt: skip
            return
        finally:
            if self.running is task:
                self.running = None
        entries = [entry for server in page.servers for entry in server.entries]
        self._cursor = page.next_cursor
        self._show(entries, cursor is not None)
        self.more_button.setEnabled(page.next_cursor is not None)
        self.state.setText(page_summary(page, len(entries)))
        self.state.setToolTip("\n".join(left_out(page)))
