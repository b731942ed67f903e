"""What the chat input gets from MCP servers, under it: "Attach…" (resources, Ctrl+Shift+A),
the attached resources each with a remove button, the token meter (the prompt and what is
attached), and the server prompts listed as ``/commands`` while one is being typed."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.mcp_host.mcp_items import McpPrompt
from hybridmcp_app.services.mcp_attachments import (
    Attachment,
    McpAttachments,
    context_of,
    meter_text,
)
from hybridmcp_app.services.mcp_prompts import McpPrompts, PromptTurn, command_of
from hybridmcp_app.ui.chat.qt_prompt_arguments import QtPromptArguments
from hybridmcp_app.ui.chat.qt_resource_picker import QtResourcePicker
from hybridmcp_app.ui.widgets.qt_mcp_icons import QtMcpIcons

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_registry import McpRegistry

PROMPT = Qt.ItemDataRole.UserRole
METER_TIP = "Tokens the prompt and its attachments take (estimated)"
TOOL_METER_TIP = (
    ". Then the last turn's tools: the local side sent the provider only the tools it chose "
    "(the audit under the answer lists them and why; pin a tool in the MCP Servers tab to "
    "always send it)"
)


class QtMcpChatBar(QWidget):
    """Attachments and ``/commands`` for ``prompt``; ``send_turn(turn)`` runs a chosen prompt."""

    def __init__(
        self,
        prompt: QPlainTextEdit,
        tasks: BackgroundTasks,
        send_turn: Callable[[PromptTurn], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._prompt, self._tasks, self._send_turn = prompt, tasks, send_turn
        self.icons = QtMcpIcons(parent=self)
        self.icons.changed.connect(self._show_icons)
        self.attachments_service: McpAttachments | None = None
        self.prompts_service: McpPrompts | None = None
        self.attachments: list[Attachment] = []
        self.picker: QtResourcePicker | None = None
        self.arguments: QtPromptArguments | None = None
        self.commands = QListWidget(self)
        self.commands.setToolTip("The MCP servers' prompts: Enter or a double click chooses one")
        self.commands.setMaximumHeight(140)
        self.commands.hide()
        self.attach_button = QPushButton("Attach…", self)
        self.attach_button.setToolTip(
            "Attach an MCP server's resource to the next prompt (Ctrl+Shift+A); its text goes "
            "to the model as context"
        )
        self.meter = QLabel(self)
        self._tool_meter = ""  # the last turn's tool-definition tokens, when chosen
        self.meter.setToolTip(METER_TIP)
        self.chips = QVBoxLayout()
        self.chips.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.attach_button)
        row.addStretch(1)
        row.addWidget(self.meter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.commands)
        layout.addLayout(self.chips)
        layout.addLayout(row)
        self.attach_button.clicked.connect(lambda: self.open_picker())
        self.commands.itemActivated.connect(lambda item: self.choose(item.data(PROMPT)))
        prompt.textChanged.connect(self._typed)
        prompt.installEventFilter(self)
        self.set_offer(None)

    def set_offer(self, registry: McpRegistry | None) -> None:
        """The MCP host's registry once it exists (None before)."""
        self.attachments_service = McpAttachments(registry) if registry is not None else None
        self.prompts_service = McpPrompts(registry) if registry is not None else None
        self.attach_button.setEnabled(registry is not None)
        self._typed()

    # ------------------------------------------------------------------ attachments
    def open_picker(self) -> QtResourcePicker | None:
        if self.attachments_service is None:
            return None
        if self.picker is not None:
            self.picker.close()
        self.picker = QtResourcePicker(
            self.attachments_service, self._tasks, self.add, self.icons, self
        )
        self.picker.open()
        return self.picker

    def add(self, attachment: Attachment) -> None:
        self.attachments.append(attachment)
        self._show_chips()

    def remove(self, index: int) -> None:
        del self.attachments[index]
        self._show_chips()

    def context(self) -> tuple[ContextDocument, ...]:
        """The attachments as the turn's context; they are sent once, then cleared."""
        documents = context_of(self.attachments)
        self.attachments.clear()
        self._show_chips()
        return documents

    def _show_chips(self) -> None:
        while (item := self.chips.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.deleteLater()
        for index, attachment in enumerate(self.attachments):
            chip = QWidget(self)
            line = QHBoxLayout(chip)
            line.setContentsMargins(0, 0, 0, 0)
            note = f"; {attachment.note}" if attachment.note else ""
            label = QLabel(
                f"📎 <b>{html.escape(attachment.label)}</b> "
                f"(≈ {attachment.tokens:,} tokens{html.escape(note)})",
                chip,
            )
            label.setToolTip(attachment.uri)
            remove = QToolButton(chip)
            remove.setText("✕")
            remove.setToolTip(f"Remove {attachment.label} from the prompt")
            remove.clicked.connect(lambda _=False, at=index: self.remove(at))
            line.addWidget(label, 1)
            line.addWidget(remove)
            self.chips.addWidget(chip)
        self._typed()

    def show_tool_tokens(self, text: str) -> None:
        """Add the last turn's tool-definition tokens (``tool_offer.tool_meter``) to the
        meter; '' takes them away."""
        self._tool_meter = text
        self.meter.setToolTip(METER_TIP + (TOOL_METER_TIP if text else ""))
        self._show_meter(self._prompt.toPlainText())

    def _show_meter(self, text: str) -> None:
        shown = meter_text(text, self.attachments)
        self.meter.setText(f"{shown} · {self._tool_meter}" if self._tool_meter else shown)

    # ------------------------------------------------------------------ /commands
    def _typed(self) -> None:
        text = self._prompt.toPlainText()
        self._show_meter(text)
        found = self.prompts_service.matching(text) if self.prompts_service else []
        self.commands.clear()
        for prompt in found:
            row = QListWidgetItem(self.icons.icon(prompt), self._command_label(prompt))
            row.setData(PROMPT, prompt)
            row.setToolTip(self.icons.tooltip(prompt.description, prompt))
            self.commands.addItem(row)
        if found:
            self.commands.setCurrentRow(0)
        self.commands.setVisible(bool(found))

    def _show_icons(self) -> None:
        """The listed commands' icons and tooltips again (a fetched icon arrived)."""
        for index in range(self.commands.count()):
            row = self.commands.item(index)
            prompt: McpPrompt = row.data(PROMPT)
            row.setIcon(self.icons.icon(prompt))
            row.setToolTip(self.icons.tooltip(prompt.description, prompt))

    @staticmethod
    def _command_label(prompt: McpPrompt) -> str:
        about = prompt.description or prompt.title or ""
        return f"{command_of(prompt)[1:]} — {about}" if about else command_of(prompt)[1:]

    def choose(self, prompt: McpPrompt) -> QtPromptArguments | asyncio.Task[None] | None:
        """Use a prompt: with arguments, its form opens; without, it is asked at once."""
        prompts = self.prompts_service
        if prompts is None:
            return None
        self._prompt.clear()
        if prompt.parameters:
            send = self._send_turn
            self.arguments = QtPromptArguments(prompt, prompts, self._tasks, send, self)
            self.arguments.open()
            return self.arguments
        return self._tasks.spawn(self._ask_plain(prompts, prompt), name="mcp-prompt")

    async def _ask_plain(self, prompts: McpPrompts, prompt: McpPrompt) -> None:
        try:
            turn = await prompts.turn(prompt, {})
        except HybridMCPError as error:
            self.meter.setText(f"⚠ {error}")
            return
        self._send_turn(turn)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """While commands are listed, Down moves into the list; Enter there chooses."""
        if (
            watched is self._prompt
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
            and self.commands.isVisible()
        ):
            self.commands.setFocus()
            return True
        return super().eventFilter(watched, event)
