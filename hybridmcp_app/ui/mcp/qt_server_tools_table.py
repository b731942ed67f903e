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
        self._icons = QtMcpIcons()  # the icons servers send for their tools
        self.setHorizontalHeaderLabels(["Tool", "What it does", "On", "Auto-approve"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()

    def show_tools(self, tools: Sequence[McpTool], source: McpJsonFile) -> None:
        self.setRowCount(len(tools))
        for row, tool in enumerate(tools):
            name_item = QTableWidgetItem(self._icons.icon(tool.icons), tool.title or tool.name)
            hint = "read-only" if tool.read_only else ("changes things" if tool.destructive else "")
            name_item.setToolTip(f"{tool.qualified_name} ({hint})" if hint else tool.qualified_name)
            self.setItem(row, 0, name_item)
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
