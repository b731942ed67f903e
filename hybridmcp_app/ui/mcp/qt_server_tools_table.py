"""The selected MCP server's tools in the MCP tab: name (with the server's icon), what it does,
and two switches per tool — on, and run without asking."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from hybridmcp_app.ui.widgets.qt_mcp_icons import QtMcpIcons

if TYPE_CHECKING:
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.mcp_host.mcp_items import McpTool

# Called with the name of an McpJsonFile method and its arguments when a switch is flipped.
ToolSwitch = Callable[..., object]


class QtServerToolsTable(QTableWidget):
    """One row per tool; ``switch(method, *args)`` is called when the user flips a switch."""

    def __init__(self, switch: ToolSwitch, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self._switch = switch
        self.icons = QtMcpIcons(parent=self)  # the icons servers send for their tools
        self.icons.changed.connect(self._show_names)
        self._tools: list[McpTool] = []
        self.setHorizontalHeaderLabels(["Tool", "What it does", "On", "Auto-approve"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()

    def show_tools(self, tools: Sequence[McpTool], source: McpJsonFile) -> None:
        self._tools = list(tools)
        self.setRowCount(len(tools))
        for row, tool in enumerate(tools):
            self.setItem(row, 0, QTableWidgetItem(tool.title or tool.name))
            self.setItem(row, 1, QTableWidgetItem(tool.description.split("\n")[0]))
            enabled = QCheckBox(self)
            enabled.setChecked(source.tool_enabled(tool.server, tool.name))
            enabled.clicked.connect(
                lambda on, t=tool: self._switch("set_tool_enabled", t.server, t.name, on)
            )
            auto = QCheckBox(self)
            auto.setChecked(source.tool_auto_approved(tool.server, tool.name, tool.read_only))
            auto.setToolTip("Run without asking (read-only tools start on)")
            auto.clicked.connect(
                lambda on, t=tool: self._switch(
                    "set_tool_auto_approve", t.server, t.name, on, t.read_only
                )
            )
            self.setCellWidget(row, 2, enabled)
            self.setCellWidget(row, 3, auto)
        self._show_names()

    def _show_names(self) -> None:
        """Each tool's icon and tooltip (again when a fetched icon arrives)."""
        for row, tool in enumerate(self._tools):
            name_item = self.item(row, 0)
            if name_item is None:
                continue
            hint = "read-only" if tool.read_only else ("changes things" if tool.destructive else "")
            tip = f"{tool.qualified_name} ({hint})" if hint else tool.qualified_name
            name_item.setIcon(self.icons.icon(tool))
            name_item.setToolTip(self.icons.tooltip(tip, tool))
