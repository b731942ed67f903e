"""The Chat tab for now: one pane talking to the local model, streaming, with Stop and metrics.

(The side-by-side view with the provider replaces it later; this keeps `make run` useful today.)
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.inference import (
    ChatMessage,
    InferenceRequest,
    InferenceResponse,
    StreamCompleted,
    StreamFailed,
    TextDelta,
)
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_model import EMBEDDED_LABEL, EMBEDDED_NOTE
from hybridmcp_app.llm.local_model_service import (
    LocalModelService,
    LocalModelState,
    LocalModelStatus,
)

log = logging.getLogger("hybridmcp.ui.chat")
FLUSH_INTERVAL_MS = 33  # stream text reaches the widget once per frame, not once per token


def format_metrics(response: InferenceResponse) -> str:
    parts = []
    timings, usage = response.timings, response.usage
    if timings.time_to_first_token_s is not None:
        parts.append(f"first token {timings.time_to_first_token_s * 1000:.0f} ms")
    if timings.decode_tokens_per_s is not None:
        parts.append(f"{timings.decode_tokens_per_s:.1f} tok/s")
    parts.append(f"{usage.prompt_tokens} → {usage.completion_tokens} tokens")
    parts.append(f"{timings.total_s:.2f} s")
    if response.finish_reason == "length":
        parts.append("cut at max tokens")
    return " · ".join(parts)


class QtLocalChatView(QWidget):
    """Wraps a ``LocalModelService``: prompt box, streaming transcript, Stop, metrics."""

    def __init__(
        self,
        service: LocalModelService,
        tasks: BackgroundTasks,
        parameters: Callable[[], ModelParameters],
        config: Callable[[], LocalLLMConfig],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._config = config
        self._tasks = tasks
        self._parameters = parameters
        self._history: list[ChatMessage] = []
        self._pending: list[str] = []
        self._answer_task: asyncio.Task[None] | None = None
        self._answering = False

        self.model_label = QLabel(self)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.load_button = QPushButton(self)
        self.load_button.setToolTip("Free the model's memory, or load it again")
        self.load_button.clicked.connect(self.toggle_loaded)
        self.continue_text = QCheckBox("Continue text (no chat template)", self)
        self.continue_text.setToolTip(
            "Send your text as it is for the model to continue: what a base model is good at"
        )
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setProperty("role", "empty-body")
        self.transcript = QTextBrowser(self)
        self.transcript.setOpenExternalLinks(True)
        self.transcript.setPlaceholderText("Answers appear here.")
        self.prompt = QPlainTextEdit(self)
        self.prompt.setPlaceholderText("Ask the local model…  (Ctrl+Enter sends, Esc stops)")
        self.prompt.setMaximumHeight(110)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(True)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setEnabled(False)
        clear = QPushButton("New chat", self)
        clear.setToolTip("Forget this conversation and start over")
        self.metrics = QLabel(self)
        self.metrics.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        top.addWidget(self.model_label, 1)
        top.addWidget(self.busy)
        top.addWidget(self.load_button)
        top.addWidget(self.continue_text)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(clear)
        buttons.addStretch(1)
        entry = QHBoxLayout()
        entry.addWidget(self.prompt, 1)
        entry.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(entry)
        layout.addWidget(self.metrics)

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        clear.clicked.connect(self.new_chat)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.prompt, self.send)
        # Window-wide while this tab is shown (a hidden widget's shortcuts do not fire).
        QShortcut(QKeySequence("Esc"), self, self.stop)
        service.subscribe(self.show_status)
        self.show_status(service.status)

    # ------------------------------------------------------------------ model status
    def show_status(self, status: LocalModelStatus) -> None:
        loading = status.state is LocalModelState.LOADING
        self.busy.setVisible(loading or self.answering)
        if loading:
            self.model_label.setText(f"Loading <b>{html.escape(status.label)}</b>…")
        elif status.state is LocalModelState.READY:
            self.model_label.setText(f"Local model: <b>{html.escape(status.label)}</b>")
        else:
            self.model_label.setText("No local model loaded — choose one in Settings → Local model")
        backend = self._service.backend
        base_model = backend is not None and not backend.capabilities.has_chat_template
        self.continue_text.setChecked(base_model)
        notes = [EMBEDDED_NOTE] if status.label == EMBEDDED_LABEL else []
        if status.error:
            notes.append(f"<span style='color:#c42b1c'>{html.escape(status.error)}</span>")
        self.note.setText("<br>".join(notes))
        self.note.setVisible(bool(notes))
        self.send_button.setEnabled(status.state is LocalModelState.READY and not self.answering)
        self.load_button.setText("Unload" if status.state is LocalModelState.READY else "Load")
        self.load_button.setEnabled(not loading and not self.answering)

    @property
    def answering(self) -> bool:
        return self._answering

    # ------------------------------------------------------------------ commands
    def send(self) -> asyncio.Task[None] | None:
        """Ask the local model; returns the answering task (None if there was nothing to do)."""
        text = self.prompt.toPlainText().strip()
        backend = self._service.backend
        if not text or backend is None or self.answering:
            return None
        raw = self.continue_text.isChecked()
        message = ChatMessage(role="user", content=text)
        messages = (message,) if raw else (*self._history, message)
        request = InferenceRequest(messages=messages, raw_prompt=raw, parameters=self._parameters())
        self.prompt.clear()
        self._append_block("You", text)
        self._append_block(backend.model_name, "")
        self._answer_task = self._tasks.spawn(self._answer(request, raw), name="local-chat-answer")
        self._set_answering(True)
        return self._answer_task

    def toggle_loaded(self) -> asyncio.Task[object]:
        if self._service.status.state is LocalModelState.READY:
            return self._tasks.spawn(self._service.unload(), name="unload-local-model")
        return self._tasks.spawn(self._service.try_load(self._config()), name="load-local-model")

    def stop(self) -> None:
        if self._answering and self._answer_task is not None:
            self._answer_task.cancel()

    def new_chat(self) -> None:
        self.stop()
        self._history.clear()
        self.transcript.clear()
        self.metrics.clear()

    async def _answer(self, request: InferenceRequest, raw: bool) -> None:
        backend = self._service.backend
        assert backend is not None
        answer: list[str] = []
        try:
            async for event in backend.stream(request):
                if isinstance(event, TextDelta):
                    answer.append(event.text)
                    self._pending.append(event.text)
                elif isinstance(event, StreamCompleted):
                    self._flush()
                    self.metrics.setText(format_metrics(event.response))
                elif isinstance(event, StreamFailed):
                    self._flush()
                    self._append_error(event.message)
        except asyncio.CancelledError:
            self._flush()
            self._append_error("stopped")
            raise
        finally:
            if not raw:
                self._history += [
                    request.messages[-1],
                    ChatMessage(role="assistant", content="".join(answer)),
                ]
            self._set_answering(False)

    # ------------------------------------------------------------------ transcript
    def _set_answering(self, answering: bool) -> None:
        self._answering = answering
        if answering:
            self._flush_timer.start()
        else:
            self._flush_timer.stop()
            self._flush()
        self.stop_button.setEnabled(answering)
        self.show_status(self._service.status)

    def _cursor_at_end(self) -> QTextCursor:
        cursor = self.transcript.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _append_block(self, who: str, text: str) -> None:
        cursor = self._cursor_at_end()
        if not self.transcript.document().isEmpty():
            cursor.insertBlock()
            cursor.insertBlock()
        cursor.insertHtml(f"<b>{html.escape(who)}</b>")
        cursor.insertBlock()
        cursor.setCharFormat(QTextCharFormat())
        if text:
            cursor.insertText(text, QTextCharFormat())

    def _append_error(self, message: str) -> None:
        cursor = self._cursor_at_end()
        cursor.insertHtml(f" <i style='color:#c42b1c'>[{html.escape(message)}]</i>")

    def _flush(self) -> None:
        if not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        cursor = self._cursor_at_end()
        cursor.insertText(text, QTextCharFormat())
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())
