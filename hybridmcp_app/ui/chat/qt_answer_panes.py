"""The answers of one chat turn side by side: one ``QtAnswerPane`` per leg in a splitter.

Streamed text is buffered per leg and appended once per frame (``FLUSH_INTERVAL_MS``), never
once per token; a leg's end, failure or tool call flushes what it has first.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter, QWidget

from hybridmcp_app.core.inference import StreamCompleted, StreamFailed, TextDelta
from hybridmcp_app.orchestration.events import LegEvent
from hybridmcp_app.orchestration.tool_events import ToolCallFinished, ToolCallStarted
from hybridmcp_app.ui.chat.markdown_html import MarkdownHtml
from hybridmcp_app.ui.chat.qt_answer_pane import QtAnswerPane

FLUSH_INTERVAL_MS = 33
TOOL_RESULT_CHARS = 600  # a longer tool result is cut in its pane


class QtAnswerPanes(QSplitter):
    """One pane per leg, keyed by leg name in ``panes``; streamed text lands once per frame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(True)
        self.panes: dict[str, QtAnswerPane] = {}  # cleared in place, never replaced
        self._pending: dict[str, list[str]] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)

    def add(self, leg: str, title: str, role: str, markdown: MarkdownHtml) -> QtAnswerPane:
        pane = QtAnswerPane(leg, title, role, markdown=markdown)
        self.panes[leg] = pane
        self.addWidget(pane)
        return pane

    def set_streaming(self, streaming: bool) -> None:
        """While a turn runs, append buffered text every frame; after it, flush what is left."""
        if streaming:
            self._flush_timer.start()
        else:
            self._flush_timer.stop()
            self.flush()

    def show_leg_event(self, event: LegEvent) -> None:
        """A leg's streamed text, its end or its failure."""
        inner = event.event
        if isinstance(inner, TextDelta):
            self._pending.setdefault(event.leg, []).append(inner.text)
        elif isinstance(inner, StreamCompleted):
            self.flush()
            self.panes[event.leg].finish(inner.response)
        elif isinstance(inner, StreamFailed):
            self.flush()
            self.panes[event.leg].fail(inner.message)

    def show_tool_call(self, event: ToolCallStarted | ToolCallFinished) -> None:
        """A tool call, and then its outcome, in the pane of the leg that made it."""
        self.flush()
        pane = self.panes.get(event.leg)
        if pane is None:
            return
        if isinstance(event, ToolCallStarted):
            pane.add_tool_call(f"🔧 {event.server} · {event.tool}", event.arguments)
            return
        outcome = event.outcome
        verdict = "✗" if outcome.is_error or not event.approved else "✓"
        text = outcome.text
        if len(text) > TOOL_RESULT_CHARS:
            text = text[:TOOL_RESULT_CHARS] + " …"
        pane.add_tool_call(
            f"{verdict} {event.tool} ({event.approval}, {event.duration_s:.2f} s)", text
        )

    def fail_all(self, message: str) -> None:
        self.flush()
        for pane in self.panes.values():
            pane.fail(message)

    def clear(self) -> None:
        self.flush()
        for pane in self.panes.values():
            # Hidden now, deleted by Qt later (the splitter lets go of it then); no reparenting,
            # which would hand the widget to Python's garbage collector as well.
            pane.hide()
            pane.deleteLater()
        self.panes.clear()
        self._pending.clear()

    def flush(self) -> None:
        for leg, parts in self._pending.items():
            if parts and leg in self.panes:
                self.panes[leg].append("".join(parts))
                parts.clear()
