"""One model's answer in the chat: Markdown rendered as it streams, metrics, Copy and Continue.

Streaming text reaches the pane once per frame. Finished Markdown blocks are appended to the
document once; only the unfinished last block is replaced each frame, so a 100k-character answer
costs no more per frame than a short one.
"""

from __future__ import annotations

import html
import json
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.inference import InferenceResponse
from hybridmcp_app.orchestration.conversation import PaneRecord
from hybridmcp_app.orchestration.tool_offer import offer_text as tool_offer_text
from hybridmcp_app.orchestration.trace_audit import ProviderCall, TraceAudit
from hybridmcp_app.ui.chat.markdown_html import MarkdownHtml, StreamingMarkdown

LEG_TITLES = {"local": "Local", "provider": "Provider", "cache": "Cache"}
COLLAPSED_WIDTH = 150
TOOL_BACKGROUND = "#30808080"  # translucent grey (#AARRGGBB): reads on light and dark


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Base).lightness() < 128


def format_metrics(response: InferenceResponse) -> str:
    timings, usage = response.timings, response.usage
    parts = []
    if timings.time_to_first_token_s is not None:
        parts.append(f"first token {timings.time_to_first_token_s * 1000:.0f} ms")
    if timings.decode_tokens_per_s is not None:
        parts.append(f"{timings.decode_tokens_per_s:.1f} tok/s")
    estimated = " (estimated)" if usage.estimated else ""
    parts.append(f"{usage.prompt_tokens} → {usage.completion_tokens} tokens{estimated}")
    parts.append(f"{timings.total_s:.2f} s")
    if response.cost_usd:  # a local model's 0 is not worth a column
        parts.append(f"${response.cost_usd:.5f}")
    if response.finish_reason == "length":
        parts.append("cut at max tokens")
    return " · ".join(parts)


def format_record_metrics(record: PaneRecord) -> str:
    parts = []
    if record.time_to_first_token_s is not None:
        parts.append(f"first token {record.time_to_first_token_s * 1000:.0f} ms")
    if record.tokens_per_s is not None:
        parts.append(f"{record.tokens_per_s:.1f} tok/s")
    parts.append(f"{record.prompt_tokens} → {record.completion_tokens} tokens")
    if record.cost_usd:
        parts.append(f"${record.cost_usd:.5f}")
    if record.error:
        parts.append(record.error)
    return " · ".join(parts)


SAVING_TEXT = {
    "fewer_tokens": "fewer tokens sent to the provider",
    "without_provider": "answered without the provider",
    "none": "none",
}
AUDIT_HEIGHT = 260


def _call_html(call: ProviderCall) -> str:
    title = f"<b>Provider call · {html.escape(call.leg)} ({html.escape(call.role)})</b>"
    if call.prompt_tokens is None:
        counted = f"failed: {html.escape(call.error or 'no answer')}"
    else:
        who = "reported by the provider" if call.usage_reported else "our estimate"
        counted = (
            f"{call.prompt_tokens:,} prompt → {call.completion_tokens or 0:,} completion tokens "
            f"({who})"
        )
    if call.estimated_prompt_tokens is not None and call.usage_reported:
        counted += f"; our estimate of the prompt: {call.estimated_prompt_tokens:,}"
    parts = [title, counted]
    if call.tools is not None:
        parts[1] += "<br>" + html.escape(tool_offer_text(call.tools))
    sent = call.request
    if sent is None:
        parts.append("<i>the request was not recorded</i>")
    else:
        settings = ", ".join(
            f"{html.escape(str(key))}={html.escape(json.dumps(value))}"
            for key, value in sent.parameters.items()
        )
        parts.append(f"model <code>{html.escape(sent.model)}</code> · {settings}")
        for message in sent.messages:
            role = html.escape(str(message.get("role", "?")))
            content = html.escape(str(message.get("content", "")))
            parts.append(f"<b>{role}</b>:<pre style='white-space:pre-wrap'>{content}</pre>")
    return "<br>".join(parts[:4]) + "".join(parts[4:])  # each message's <pre> breaks a line


def audit_html(audit: TraceAudit) -> str:
    """The audit under an answer: saving, counts against the baseline, each request as sent."""
    if audit.provider_usage_reported is None:
        counted = "no provider answer"
    elif audit.provider_usage_reported:
        counted = "reported by the provider"
    else:
        counted = "our estimate where the provider reported no usage"
    saving = SAVING_TEXT[audit.saving]
    if audit.saving == "none" and audit.tool_tokens_saved:  # the one saving: the tools chosen
        saving = "fewer tool definitions sent (below)"
    lines = [
        f"<b>Saving:</b> {saving}"
        + (f" — {audit.prompt_tokens_saved:,} prompt tokens" if audit.prompt_tokens_saved else ""),
        f"<b>Provider prompt tokens:</b> {audit.provider_prompt_tokens:,} ({counted})",
    ]
    if audit.provider_prompt_tokens_estimated is not None and audit.provider_calls:
        lines.append(
            f"<b>Sent, counted like the baseline:</b> {audit.provider_prompt_tokens_estimated:,} "
            "prompt tokens (our estimate: the saving compares this with the baseline)"
        )
    lines += [
        f"<b>Baseline:</b> {audit.baseline_prompt_tokens:,} prompt tokens (our estimate of what "
        "provider-only would have sent for this turn, with the same sources)",
    ]
    if audit.tool_tokens_saved:
        lines.append(
            f"<b>Tool definitions:</b> {audit.tool_tokens_saved:,} prompt tokens fewer (the "
            "local side chose the tools the provider saw)"
        )
    if audit.failed_over:
        lines.append("<b>Failed over:</b> the provider failed; the local model answered")
    calls = [_call_html(call) for call in audit.provider_calls]
    return "<br>".join(lines) + "".join(f"<hr>{call}" for call in calls)


class _StreamedDocument:
    """Appends rendered blocks to a QTextDocument and replaces its unfinished tail."""

    def __init__(self, view: QTextBrowser, renderer: MarkdownHtml) -> None:
        self._view = view
        self._renderer = renderer
        self._stream = StreamingMarkdown(renderer)
        self._tail_from: int | None = None  # where the tail (and its block break) begins

    def reset(self) -> None:
        self._view.clear()
        self._stream = StreamingMarkdown(self._renderer)
        self._tail_from = None

    def show(self, text: str, *, final: bool = False) -> None:
        update = self._stream.feed(text, final=final)
        document = self._view.document()
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        if self._tail_from is not None:
            cursor.setPosition(self._tail_from)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            self._tail_from = None
        for block in update.finished:
            self._insert(cursor, block)
        if update.tail:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            self._tail_from = cursor.position()
            self._insert(cursor, update.tail)
        cursor.endEditBlock()

    def _insert(self, cursor: QTextCursor, rendered: str) -> None:
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self._view.document().isEmpty():
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            current = cursor.currentList()
            if current is not None:  # a block after a list must not join the list
                current.remove(cursor.block())
        cursor.insertFragment(QTextDocumentFragment.fromHtml(rendered))

    def add_block(self, text: str, block_html: str) -> None:
        """Finish what has streamed of ``text`` so far, then add a block of its own (a tool
        call or result); text streamed afterwards continues below it."""
        self.show(text, final=True)
        cursor = QTextCursor(self._view.document())
        self._insert(cursor, block_html)

    def append_note(self, note_html: str) -> None:
        cursor = QTextCursor(self._view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(note_html)


class QtAnswerPane(QFrame):
    """Title, answer and metrics of one leg; Copy, "Continue with this answer", collapse, and
    (on the hybrid answer) what the local model did."""

    continue_requested = Signal(str)
    collapsed_changed = Signal(bool)

    def __init__(
        self,
        leg: str,
        backend: str,
        role: str,
        parent: QWidget | None = None,
        *,
        markdown: MarkdownHtml | None = None,
    ) -> None:
        """``markdown``: a renderer shared by the panes (building one takes tens of ms)."""
        super().__init__(parent)
        self.leg = leg
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self._backend, self._role = backend, role
        self.set_hybrid(False)
        self.collapse_button = QToolButton(self)
        self.collapse_button.setCheckable(True)
        self.collapse_button.setAutoRaise(True)
        self.collapse_button.setText("—")
        self.collapse_button.setToolTip("Collapse this pane (drag the divider to resize)")
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(True)
        self.footer = QLabel(self)
        self.footer.setWordWrap(True)
        self.trace_button = QToolButton(self)
        self.trace_button.setCheckable(True)
        self.trace_button.setAutoRaise(True)
        self.trace_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.trace_button.setArrowType(Qt.ArrowType.RightArrow)
        self.trace_button.setText("What the local model did")
        self.trace_button.hide()
        self.trace = QLabel(self)
        self.trace.setWordWrap(True)
        self.trace.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.trace.hide()
        self.audit_button = QToolButton(self)
        self.audit_button.setCheckable(True)
        self.audit_button.setAutoRaise(True)
        self.audit_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.audit_button.setArrowType(Qt.ArrowType.RightArrow)
        self.audit_button.setText("Audit: what the provider was sent")
        self.audit_button.hide()
        self.audit = QTextBrowser(self)
        self.audit.setMaximumHeight(AUDIT_HEIGHT)
        self.audit.hide()
        self.copy_button = QPushButton("Copy", self)
        self.continue_button = QPushButton("Continue with this answer", self)
        self.continue_button.setToolTip("Branch the conversation: the next prompt follows this")
        self.continue_button.setEnabled(False)
        self._answer = ""
        self.first_text_at: float | None = None
        self.last_text_at: float | None = None
        if markdown is None:
            markdown = MarkdownHtml(dark=is_dark(self))
        self._document = _StreamedDocument(self.text, markdown)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.collapse_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.continue_button)
        buttons.addStretch(1)
        self._body = QWidget(self)
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.text, 1)
        body.addWidget(self.footer)
        body.addWidget(self.trace_button)
        body.addWidget(self.trace)
        body.addWidget(self.audit_button)
        body.addWidget(self.audit)
        body.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self._body, 1)
        self.copy_button.clicked.connect(self.copy)
        self.continue_button.clicked.connect(lambda: self.continue_requested.emit(self.leg))
        self.collapse_button.toggled.connect(self.set_collapsed)
        self.trace_button.toggled.connect(self._show_trace)
        self.audit_button.toggled.connect(self._show_audit)

    @property
    def answer(self) -> str:
        return self._answer

    @property
    def collapsed(self) -> bool:
        return self.collapse_button.isChecked()

    def set_hybrid(self, hybrid: bool) -> None:
        """The hybrid strategy's final answer is titled so, whichever model wrote it."""
        title = "Hybrid" if hybrid else LEG_TITLES.get(self.leg, self.leg.title())
        extra = f" · {self._role}" if self._role != "answer" else ""
        self.title.setText(
            f"<b>{html.escape(title)}</b> · {html.escape(self._backend)}{html.escape(extra)}"
        )

    def set_collapsed(self, collapsed: bool) -> None:
        self.collapse_button.setChecked(collapsed)
        self._body.setVisible(not collapsed)
        self.setMaximumWidth(COLLAPSED_WIDTH if collapsed else 16777215)
        self.collapse_button.setText("+" if collapsed else "—")
        self.collapse_button.setToolTip("Show this pane" if collapsed else "Collapse this pane")
        self.collapsed_changed.emit(collapsed)

    def set_trace(self, notes: list[str]) -> None:
        """Show the expandable list of what the orchestrator decided (hybrid answers)."""
        self.trace.setText("\n".join(f"• {note}" for note in notes))
        self.trace_button.setVisible(bool(notes))

    def _show_trace(self, shown: bool) -> None:
        self.trace.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.trace_button.setArrowType(arrow)

    def set_audit(self, audit: TraceAudit) -> None:
        """Offer the run's audit, folded: the provider requests as sent and their counts."""
        self.audit.setHtml(audit_html(audit))
        self.audit_button.show()

    def _show_audit(self, shown: bool) -> None:
        self.audit.setVisible(shown)
        arrow = Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        self.audit_button.setArrowType(arrow)

    def append(self, text: str) -> None:
        """Add streamed text (called once per frame with everything that arrived)."""
        now = time.monotonic()
        if self.first_text_at is None:
            self.first_text_at = now
        self.last_text_at = now
        self._answer += text
        self._show(final=False)

    def _show(self, *, final: bool) -> None:
        bar = self.text.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 4  # only follow a reader who is at the end
        self._document.show(self._answer, final=final)
        if following:
            bar.setValue(bar.maximum())

    def finish(self, response: InferenceResponse) -> None:
        """One model step ended (a tool loop has several); its text has streamed already."""
        if not self._answer and response.text:  # a backend that answered without streaming
            self._answer = response.text
        self._show(final=True)
        self.footer.setText(format_metrics(response))
        self.continue_button.setEnabled(True)

    def restore(self, record: PaneRecord) -> None:
        """Show an answer from the history as it was."""
        self._answer = record.text
        self._document.reset()
        self._show(final=True)
        self.footer.setText(format_record_metrics(record))
        self.continue_button.setEnabled(bool(record.text))

    def fail(self, message: str) -> None:
        self._show(final=True)
        self._document.append_note(f"<br><i style='color:#c42b1c'>[{html.escape(message)}]</i>")
        self.footer.setText(f"failed: {message}" if message != "stopped" else "stopped")

    def add_tool_call(self, title: str, detail: str) -> None:
        """A tool call or its result, inline in the answer (not part of the answer's text)."""
        self._document.add_block(
            self._answer,
            f"<table width='100%' cellpadding='6' bgcolor='{TOOL_BACKGROUND}'><tr><td>"
            f"<b>{html.escape(title)}</b><br><small><code>{html.escape(detail)}</code></small>"
            "</td></tr></table>",
        )

    def copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self._answer)
