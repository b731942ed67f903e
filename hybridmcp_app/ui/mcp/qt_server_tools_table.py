"""The selected MCP server's tools in the MCP tab: name (with the server's icon), what it does,
and three switches per tool — on, run without asking, and pinned (every provider request carries
it when the local side chooses the tools: ``mcp.pinned_tools``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtWidgets import QCheckBox, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from hybridmcp_app.ui.widgets.qt_mcp_icons import QtMcpIcons

if TYPE_CHECKING:
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.config.settings import McpSettings, Settings
    from hybridmcp_app.mcp_host.mcp_items import McpTool

# Called with the name of an McpJsonFile method and its arguments when a switch is flipped.
ToolSwitch = Callable[..., object]
PIN_COLUMN = 4
PIN_OFF_TIP = (
    "Pins matter only while the local side chooses the tools the provider sees; it does not "
    "now, so every request carries every enabled tool (Settings → MCP servers → Let the local "
    "side choose the tools the provider sees)."
)


def pin_tip(mcp: McpSettings) -> str:
    """What the Pin switch does, with the settings' numbers."""
    return (
        f"Pinned: every provider request carries this tool. Unpinned, it is sent only when it "
        f"ranks among the {mcp.chosen_tools} best for the conversation (once more than "
        f"{mcp.choose_tools_above} tools are on; the provider can still ask for any other)."
    )


@dataclass(frozen=True)
class ToolPins:
    """Where the pins live: the settings in use, and ``change`` to use new settings at once and
    write them off the event loop (a task that fails with ``OSError``); ``tell`` says why a pin
    could not be saved."""

    settings: Callable[[], Settings]
    change: Callable[[Settings], asyncio.Task[None]]
    tell: Callable[[str], None]


class QtServerToolsTable(QTableWidget):
    """One row per tool; ``switch(method, *args)`` is called when the user flips On or
    Auto-approve. The Pin column shows once ``set_pins`` says where the pins live."""

    def __init__(self, switch: ToolSwitch, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self._switch = switch
        self._pins: ToolPins | None = None
        self.icons = QtMcpIcons(parent=self)  # the icons servers send for their tools
        self.icons.changed.connect(self._show_names)
        self._tools: list[McpTool] = []
        self.setHorizontalHeaderLabels(["Tool", "What it does", "On", "Auto-approve", "Pin"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3, PIN_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.setColumnHidden(PIN_COLUMN, True)
        self.verticalHeader().hide()

    def set_pins(self, pins: ToolPins) -> None:
        """Show the Pin column, reading and saving pins through ``pins``."""
        self._pins = pins
        self.setColumnHidden(PIN_COLUMN, False)
        self.show_pins()

    def show_tools(self, tools: Sequence[McpTool], source: McpJsonFile) -> None:
        self._tools = list(tools)
        self.setRowCount(len(tools))
        for row, tool in enumerate(tools):
            self.setItem(row, 0, QTableWidgetItem(tool.title or tool.name))
            does = QTableWidgetItem(tool.description.split("\n")[0])
            does.setToolTip(tool.description)  # in full: the column cuts a long one
            self.setItem(row, 1, does)
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
            pin = QCheckBox(self)
            pin.clicked.connect(lambda on, t=tool: self.pin(t.qualified_name, on))
            self.setCellWidget(row, 2, enabled)
            self.setCellWidget(row, 3, auto)
            self.setCellWidget(row, PIN_COLUMN, pin)
        self._show_names()
        self.show_pins()

    def pin_box(self, row: int) -> QCheckBox:
        box = self.cellWidget(row, PIN_COLUMN)
        assert isinstance(box, QCheckBox)
        return box

    def show_pins(self) -> None:
        """Each tool's Pin switch as the settings have it: usable only while the local side
        chooses the tools (called again when the settings change)."""
        if self._pins is None:
            return
        mcp = self._pins.settings().mcp
        tip = pin_tip(mcp) if mcp.choose_tools else PIN_OFF_TIP
        for row, tool in enumerate(self._tools):
            box = self.pin_box(row)
            box.setChecked(tool.qualified_name in mcp.pinned_tools)
            box.setEnabled(mcp.choose_tools)
            box.setToolTip(tip)
        header = self.horizontalHeaderItem(PIN_COLUMN)
        if header is not None:
            header.setToolTip(tip)

    def pin(self, name: str, pinned: bool) -> asyncio.Task[None] | None:
        """Pin (or unpin) the tool ``name`` (``server__tool``): the next request uses it; the
        settings file is written off the event loop."""
        if self._pins is None:
            return None
        settings = self._pins.settings()
        kept = tuple(n for n in settings.mcp.pinned_tools if n != name)
        mcp = settings.mcp.model_copy(update={"pinned_tools": (*kept, name) if pinned else kept})
        saving = self._pins.change(settings.model_copy(update={"mcp": mcp}))
        saving.add_done_callback(self._saved)
        return saving

    def _saved(self, saving: asyncio.Task[None]) -> None:
        error = None if saving.cancelled() else saving.exception()
        if error is not None and self._pins is not None and shiboken6.isValid(self):
            self._pins.tell(
                f"The pinned tools could not be saved ({error}); they apply until HybridMCP quits."
            )

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
