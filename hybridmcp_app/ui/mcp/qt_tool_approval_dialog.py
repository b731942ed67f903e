"""Asks the user before a model's tool call runs: the server, the tool, and every argument.

Window-modal but not blocking: ``ask_tool_approval`` opens the dialog and awaits its answer, so
the event loop (and the streaming answers) keep running while the user reads.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.orchestration.approval_policy import ApprovalDecision, ToolApprovalRequest
from hybridmcp_app.ui.qt_dialog_wait import dialog_closed


class QtToolApprovalDialog(QDialog):
    """Allow once, Always allow (this tool), or Deny (the default, also on Esc)."""

    def __init__(self, request: ToolApprovalRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Allow this tool call?")
        self.setMinimumWidth(520)
        self.decision = ApprovalDecision.DENY
        effect = "only reads" if request.read_only else (
            "may change or delete things" if request.destructive else "changes things"
        )  # fmt: skip
        heading = QLabel(
            f"The model wants to call <b>{html.escape(request.title or request.tool)}</b> "
            f"of the MCP server <b>{html.escape(request.server)}</b>.<br>"
            f"<small>{html.escape(request.qualified_name)} · the server says it {effect}"
            f"</small>",
            self,
        )
        heading.setWordWrap(True)
        description = QLabel(request.description.strip()[:600], self)
        description.setWordWrap(True)
        description.setProperty("role", "empty-body")
        self.arguments = QPlainTextEdit(request.arguments_text, self)
        self.arguments.setReadOnly(True)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setStyleHint(QFont.StyleHint.Monospace)
        self.arguments.setFont(fixed)
        self.allow_once = QPushButton("Allow once", self)
        self.allow_always = QPushButton("Always allow this tool", self)
        self.deny = QPushButton("Deny", self)
        self.deny.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.allow_always)
        buttons.addStretch(1)
        buttons.addWidget(self.deny)
        buttons.addWidget(self.allow_once)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        if request.description.strip():
            layout.addWidget(description)
        layout.addWidget(QLabel("Arguments, in full:", self))
        layout.addWidget(self.arguments, 1)
        layout.addLayout(buttons)
        for button, decision in (
            (self.allow_once, ApprovalDecision.ALLOW_ONCE),
            (self.allow_always, ApprovalDecision.ALLOW_ALWAYS),
            (self.deny, ApprovalDecision.DENY),
        ):
            button.clicked.connect(lambda _=False, d=decision: self._choose(d))

    def _choose(self, decision: ApprovalDecision) -> None:
        self.decision = decision
        self.accept() if decision is not ApprovalDecision.DENY else self.reject()


async def ask_tool_approval(
    parent: QWidget | None, request: ToolApprovalRequest
) -> ApprovalDecision:
    """Show the dialog and wait for the answer without blocking the event loop."""
    dialog = QtToolApprovalDialog(request, parent)
    await dialog_closed(dialog)  # rejected when the turn is stopped while it is open
    return dialog.decision
