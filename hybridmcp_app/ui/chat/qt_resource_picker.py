"""The chat's "Attach…" picker: the ready MCP servers' resources and resource templates; a
template asks for its arguments (completed by the server). Attach reads the chosen resource
and hands it to the chat; the picker stays open to attach more."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.mcp_host.mcp_items import McpPromptArgument, McpResource, McpResourceTemplate
from hybridmcp_app.services.mcp_attachments import Attachment, McpAttachments, template_arguments
from hybridmcp_app.ui.chat.qt_argument_form import QtArgumentForm
from hybridmcp_app.ui.widgets.qt_mcp_icons import QtMcpIcons

ITEM = Qt.ItemDataRole.UserRole


class QtResourcePicker(QDialog):
    """Lists what may be attached; ``attached(attachment)`` hears each one read."""

    def __init__(
        self,
        attachments: McpAttachments,
        tasks: BackgroundTasks,
        attached: Callable[[Attachment], None],
        icons: QtMcpIcons,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Attach an MCP resource")
        self._attachments, self._tasks, self._attached = attachments, tasks, attached
        self._icons = icons
        icons.changed.connect(self._show_icons)
        self.items = QListWidget(self)
        self.items.setToolTip("Resources of the ready MCP servers; a template asks for values")
        self.form_area = QVBoxLayout()
        self.form: QtArgumentForm | None = None
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.attach_button = QPushButton("Attach", self)
        self.attach_button.setToolTip("Read the resource and attach its text to the next prompt")
        buttons.addButton(self.attach_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.items, 1)
        layout.addLayout(self.form_area)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.items.currentItemChanged.connect(lambda *_: self._selected())
        self.items.itemDoubleClicked.connect(lambda _item: self.attach_selected())
        self.attach_button.clicked.connect(lambda: self.attach_selected())
        self.resize(520, 420)
        for resource in attachments.resources():
            self._add(f"{resource.server}: {resource.title or resource.name}", resource)
        self.loading: asyncio.Task[None] = tasks.spawn(self._load_templates(), name="mcp-templates")
        self._selected()

    def _add(self, text: str, item: McpResource | McpResourceTemplate) -> None:
        row = QListWidgetItem(self._icons.icon(item), text)
        row.setData(ITEM, item)
        row.setToolTip(self._icons.tooltip(item.description, item))
        self.items.addItem(row)

    def _show_icons(self) -> None:
        """Each entry's icon and tooltip again (a fetched icon arrived)."""
        for index in range(self.items.count()):
            row = self.items.item(index)
            item: McpResource | McpResourceTemplate = row.data(ITEM)
            row.setIcon(self._icons.icon(item))
            row.setToolTip(self._icons.tooltip(item.description, item))

    async def _load_templates(self) -> None:
        for template in await self._attachments.templates():
            self._add(f"{template.server}: {template.title or template.name} (template)", template)
        if not self.items.count():
            self.problem.setText("No MCP server offers resources (see the MCP Servers tab).")
        elif self.items.currentRow() < 0:
            self.items.setCurrentRow(0)

    def select(self, text: str) -> None:
        """Select the entry whose label is ``text`` (as a click would)."""
        found = self.items.findItems(text, Qt.MatchFlag.MatchExactly)
        if not found:
            raise LookupError(f"no resource listed as {text!r}")
        self.items.setCurrentItem(found[0])

    def _chosen(self) -> McpResource | McpResourceTemplate | None:
        row = self.items.currentItem()
        chosen: McpResource | McpResourceTemplate | None = (
            row.data(ITEM) if row is not None else None
        )
        return chosen

    def _selected(self) -> None:
        if self.form is not None:
            self.form.deleteLater()
            self.form = None
        chosen = self._chosen()
        self.attach_button.setEnabled(chosen is not None)
        if not isinstance(chosen, McpResourceTemplate):
            return
        try:
            names = template_arguments(chosen)
        except HybridMCPError as error:
            self.problem.setText(str(error))
            return

        async def complete(name: str, value: str, given: dict[str, str]) -> list[str]:
            return await self._attachments.complete(chosen, name, value, given)

        arguments = [McpPromptArgument(name=name, required=True) for name in names]
        self.form = QtArgumentForm(arguments, complete, self._tasks, self)
        self.form_area.addWidget(self.form)

    def attach_selected(self) -> asyncio.Task[None] | None:
        chosen = self._chosen()
        if chosen is None:
            return None
        self.problem.clear()
        return self._tasks.spawn(self._attach(chosen), name="mcp-attach")

    async def _attach(self, chosen: McpResource | McpResourceTemplate) -> None:
        self.attach_button.setEnabled(False)
        try:
            if isinstance(chosen, McpResourceTemplate):
                values = self.form.values() if self.form is not None else {}
                attachment = await self._attachments.read_template(chosen, values)
            else:
                name = chosen.title or chosen.name
                attachment = await self._attachments.read(chosen.server, chosen.uri, name)
        except HybridMCPError as error:
            self.problem.setText(f"⚠ {error}")
        else:
            self._attached(attachment)
            self.problem.setText(f"Attached {attachment.label}.")
        finally:
            self.attach_button.setEnabled(True)
