"""One model's answer in the chat: streams as plain text, becomes Markdown when finished."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.inference import InferenceResponse
from hybridmcp_app.orchestration.conversation import PaneRecord

LEG_TITLES = {"local": "Local", "provider": "Provider", "cache": "Cache"}


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
    if response.cost_usd is not None:
        parts.append(f"${response.cost_usd:.5f}")
    if response.finish_reason == "length":
        parts.append("cut at max tokens")
    return " · ".join(parts)


class QtAnswerPane(QFrame):
    """Title, answer and metrics of one leg; Copy and "Continue with this answer"."""

    continue_requested = Signal(str)

    def __init__(self, leg: str, backend: str, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.leg = leg
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(self)
        title = LEG_TITLES.get(leg, leg.title())
        extra = f" · {role}" if role not in {"answer"} else ""
        self.title.setText(f"<b>{html.escape(title)}</b> · {html.escape(backend)}{extra}")
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(True)
        self.footer = QLabel(self)
        self.footer.setWordWrap(True)
        self.copy_button = QPushButton("Copy", self)
        self.continue_button = QPushButton("Continue with this answer", self)
        self.continue_button.setEnabled(False)
        self._answer = ""
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.continue_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.footer)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self.copy)
        self.continue_button.clicked.connect(lambda: self.continue_requested.emit(self.leg))

    @property
    def answer(self) -> str:
        return self._answer

    def append(self, text: str) -> None:
        """Add streamed text (called once per frame with everything that arrived)."""
        self._answer += text
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def finish(self, response: InferenceResponse) -> None:
        self._answer = response.text
        self.text.setMarkdown(response.text)
        self.footer.setText(format_metrics(response))
        self.continue_button.setEnabled(True)

    def restore(self, record: PaneRecord) -> None:
        """Show an answer from the history as it was."""
        self._answer = record.text
        self.text.setMarkdown(record.text)
        parts = []
        if record.time_to_first_token_s is not None:
            parts.append(f"first token {record.time_to_first_token_s * 1000:.0f} ms")
        if record.tokens_per_s is not None:
            parts.append(f"{record.tokens_per_s:.1f} tok/s")
        parts.append(f"{record.prompt_tokens} → {record.completion_tokens} tokens")
        if record.cost_usd is not None:
            parts.append(f"${record.cost_usd:.5f}")
        self.footer.setText(" · ".join(parts) + (f" · {record.error}" if record.error else ""))
        self.continue_button.setEnabled(bool(record.text))

    def fail(self, message: str) -> None:
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(f"<br><i style='color:#c42b1c'>[{html.escape(message)}]</i>")
        self.footer.setText("failed")

    def copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self._answer)
