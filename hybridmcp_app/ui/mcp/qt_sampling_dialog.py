"""Asks the user before an MCP server's sampling request runs, then before its answer goes back:
the server, the model chosen, the system prompt, every message, the token limit, what the host
changed, and (second look) the answer in full.

Window-modal but not blocking: ``QtSamplingApprover`` opens the dialog and awaits its answer, so
the event loop keeps running while the user reads. Esc and closing the window deny.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.services.mcp_sampling import SamplingDecision, SamplingReview
from hybridmcp_app.ui.qt_dialog_wait import dialog_closed


def _request_text(review: SamplingReview) -> str:
    lines = [f"[{message.role}] {message.content}" for message in review.messages]
    lines.append(f"\nAnswer up to {review.max_tokens} tokens")
    if review.temperature is not None:
        lines.append(f"Temperature {review.temperature:g}")
    if review.stop:
        lines.append("Stops at: " + ", ".join(repr(stop) for stop in review.stop))
    if review.tools:
        lines.append("The model may call: " + ", ".join(review.tools))
    lines += [f"Note: {note}" for note in review.notes]
    return "\n".join(lines)


def _answer_text(review: SamplingReview) -> str:
    answer = review.answer
    if answer is None:
        return ""
    calls = [f"calls {call.name}({call.arguments})" for call in answer.tool_calls]
    return "\n".join([answer.text, *calls]).strip()


class QtSamplingDialog(QDialog):
    """The request stage: Allow once, Always, Deny (the default, also on Esc), Never.
    The answer stage (``review.answer`` set): Send or Deny."""

    def __init__(self, review: SamplingReview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        answering = review.answer is not None
        self.setWindowTitle("Send this answer?" if answering else "Allow this sampling request?")
        self.setMinimumWidth(560)
        self.decision: SamplingDecision = "deny"
        where = "this computer" if review.source == "local" else "the provider"
        heading = QLabel(
            f"The MCP server <b>{html.escape(review.server)}</b> asks for a completion by "
            f"<b>{html.escape(review.model)}</b> (on {where}).",
            self,
        )
        heading.setWordWrap(True)
        self.request = QPlainTextEdit(_request_text(review), self)
        self.request.setReadOnly(True)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QLabel("The request, in full:", self))
        layout.addWidget(self.request, 1)
        self.answer = QPlainTextEdit(_answer_text(review), self)
        self.answer.setReadOnly(True)
        if answering:
            layout.addWidget(QLabel("The model's answer, sent to the server if you allow:", self))
            layout.addWidget(self.answer, 1)
        else:  # outside the layout it would sit over the heading
            self.answer.hide()
        self.allow_once = QPushButton("Send" if answering else "Allow once", self)
        self.allow_always = QPushButton("Always allow this server", self)
        self.never = QPushButton("Never for this server", self)
        self.deny = QPushButton("Deny", self)
        self.deny.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.allow_always)
        buttons.addWidget(self.never)
        self.allow_always.setVisible(not answering)  # an answer is sent once or not at all
        self.never.setVisible(not answering)
        buttons.addStretch(1)
        buttons.addWidget(self.deny)
        buttons.addWidget(self.allow_once)
        layout.addLayout(buttons)
        for button, decision in (
            (self.allow_once, "once"),
            (self.allow_always, "always"),
            (self.never, "never"),
            (self.deny, "deny"),
        ):
            button.clicked.connect(lambda _=False, d=decision: self._choose(d))

    def _choose(self, decision: SamplingDecision) -> None:
        self.decision = decision
        self.accept() if decision in ("once", "always") else self.reject()


async def ask_sampling(parent: QWidget | None, review: SamplingReview) -> SamplingDecision:
    """Show the dialog and wait for the answer without blocking the event loop."""
    dialog = QtSamplingDialog(review, parent)
    await dialog_closed(dialog)  # rejected when the server's request is cancelled meanwhile
    return dialog.decision


class QtSamplingApprover:
    """The window's ``SamplingApprover``: the dialog, over ``parent``."""

    def __init__(self, parent: QWidget | None) -> None:
        self._parent = parent

    async def review_request(self, review: SamplingReview) -> SamplingDecision:
        return await ask_sampling(self._parent, review)

    async def review_answer(self, review: SamplingReview) -> bool:
        return await ask_sampling(self._parent, review) == "once"
