"""The form a server prompt with arguments opens (``/server:prompt``): its arguments, required
ones marked, completed by the server; OK fills the prompt in and hands the turn to the chat."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.mcp_host.mcp_items import McpPrompt
from hybridmcp_app.services.mcp_prompts import McpPrompts, PromptTurn, command_of
from hybridmcp_app.ui.chat.qt_argument_form import QtArgumentForm


class QtPromptArguments(QDialog):
    """Asks a prompt's arguments; ``chosen(turn)`` hears the filled-in prompt."""

    def __init__(
        self,
        prompt: McpPrompt,
        prompts: McpPrompts,
        tasks: BackgroundTasks,
        chosen: Callable[[PromptTurn], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(command_of(prompt))
        self._prompt, self._prompts, self._tasks, self._chosen = prompt, prompts, tasks, chosen
        about = QLabel(
            f"<b>{html.escape(prompt.title or prompt.name)}</b> from "
            f"{html.escape(prompt.server)}<br>{html.escape(prompt.description)}",
            self,
        )
        about.setWordWrap(True)

        async def complete(name: str, value: str, given: dict[str, str]) -> list[str]:
            return await prompts.complete(prompt, name, value, given)

        self.form = QtArgumentForm(prompt.parameters, complete, tasks, self)
        self.problem = QLabel(self)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Ask")
        self.buttons.accepted.connect(lambda: self.submit())
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (about, self.form, self.problem, self.buttons):
            layout.addWidget(widget)

    def submit(self) -> asyncio.Task[None]:
        """Fill the prompt in with the form's values; the dialog closes once it is sent, or
        says in one line why it cannot be."""
        return self._tasks.spawn(self._submit(), name="mcp-prompt")

    async def _submit(self) -> None:
        self.buttons.setEnabled(False)
        try:
            turn = await self._prompts.turn(self._prompt, self.form.values())
        except HybridMCPError as error:
            self.problem.setText(f"⚠ {error}")
            self.buttons.setEnabled(True)
            return
        self.accept()
        self._chosen(turn)
