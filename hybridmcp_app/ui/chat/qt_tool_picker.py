"""The chat's tool switch: no tools, every enabled MCP tool, or one tool the model must call
(what a small local model needs: it cannot choose tools well on its own)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from hybridmcp_app.mcp_host.mcp_items import McpTool

OFF = ""
ALL = "*"


class QtToolPicker(QComboBox):
    """``choice`` is None (no tools), ``ALL``, or a tool's ``server__tool`` name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wanted: object = OFF  # the user's pick, kept while its server is away
        # Wide enough for "MCP tools (123)" whichever entry showed first; a tool's entry is
        # elided here and shown in full in the list.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.activated.connect(lambda _index: setattr(self, "_wanted", self.currentData()))
        self.setToolTip(
            "MCP tools the models may call (servers and tools are switched in the MCP Servers "
            "tab). Pick one tool to make the model call it: small local models need that."
        )
        self.set_tools([])

    def set_tools(self, tools: list[McpTool]) -> None:
        """Offer ``tools`` (the enabled tools of ready servers), keeping the choice if it stays."""
        self.blockSignals(True)
        self.clear()
        self.addItem("No tools", OFF)
        if tools:
            self.addItem(f"MCP tools ({len(tools)})", ALL)
            for tool in sorted(tools, key=lambda t: t.qualified_name):
                self.addItem(f"Call {tool.server} · {tool.title or tool.name}", tool.qualified_name)
        self.setCurrentIndex(max(self.findData(self._wanted), 0))
        self.blockSignals(False)
        self.setEnabled(bool(tools))

    def choose(self, data: str) -> None:
        """Pick an entry as the user would (by its data: ``ALL`` or ``server__tool``)."""
        self._wanted = data
        self.setCurrentIndex(max(self.findData(data), 0))

    @property
    def choice(self) -> str | None:
        data = self.currentData()
        return None if not data else str(data)

    @property
    def forced_tool(self) -> str | None:
        choice = self.choice
        return None if choice in (None, ALL) else choice
