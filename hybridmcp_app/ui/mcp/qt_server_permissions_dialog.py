"""What one MCP server may ask of the host: its sampling grant (which model answers, whether the
user is asked, the longest answer) and the folders it may see as roots. Opened from the MCP
tab's "Permissions…"; saved in ``mcp-grants.json`` through ``McpRoots``, which tells a
connected 2025 server that its roots changed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.mcp_grants import (
    SamplingApproval,
    SamplingGrant,
    SamplingSource,
    ServerGrants,
)
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.ui.qt_dialog_wait import dialog_closed

SOURCES: dict[SamplingSource, str] = {
    "local": "The local model (nothing leaves this computer)",
    "provider": "The provider (the active one)",
    "auto": "Local or provider, as the server's model hints suggest",
    "off": "Off: the server is told sampling is off",
}
APPROVALS: dict[SamplingApproval, str] = {
    "ask": "Ask me each time (the request, then the answer)",
    "always": "Always allow, without asking",
    "never": "Never: refuse every request",
}
MAX_TOKENS_LIMIT = 131_072  # SamplingGrant.max_tokens's bound


class QtServerPermissionsDialog(QDialog):
    """Edits a copy of ``grants``; read ``sampling()`` and ``folders()`` once accepted."""

    def __init__(
        self, server: str, grants: ServerGrants, choices: list[Path], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Permissions of {server}")
        self.setMinimumWidth(520)
        self._grants = grants
        self.source = QComboBox(self)
        for source, label in SOURCES.items():
            self.source.addItem(label, source)
        self.source.setCurrentIndex(self.source.findData(grants.sampling.source))
        self.approval = QComboBox(self)
        for approval, label in APPROVALS.items():
            self.approval.addItem(label, approval)
        self.approval.setCurrentIndex(self.approval.findData(grants.sampling.approval))
        self.max_tokens = QSpinBox(self)
        self.max_tokens.setRange(1, MAX_TOKENS_LIMIT)
        self.max_tokens.setValue(grants.sampling.max_tokens)
        self.max_tokens.setSuffix(" tokens")
        sampling = QGroupBox("Sampling: when the server asks for a completion", self)
        form = QFormLayout(sampling)
        form.addRow("Answered by", self.source)
        form.addRow("Approval", self.approval)
        form.addRow("Longest answer", self.max_tokens)

        self.folders_list = QListWidget(self)
        for folder in grants.roots:
            self.folders_list.addItem(str(folder))
        self.choices = QComboBox(self)
        self.choices.setToolTip("The library's folders and the workspace roots")
        for folder in choices:
            self.choices.addItem(str(folder), str(folder))
        self.add_choice = QPushButton("Add", self)
        self.add_choice.setEnabled(bool(choices))
        self.add_other = QPushButton("Other folder…", self)
        self.remove = QPushButton("Remove", self)
        adding = QHBoxLayout()
        adding.addWidget(self.choices, 1)
        adding.addWidget(self.add_choice)
        adding.addWidget(self.add_other)
        adding.addWidget(self.remove)
        roots = QGroupBox("Roots: the folders the server may see", self)
        roots_layout = QVBoxLayout(roots)
        note = QLabel("None is granted until you add one here.", roots)
        note.setWordWrap(True)
        roots_layout.addWidget(note)
        roots_layout.addWidget(self.folders_list)
        roots_layout.addLayout(adding)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(sampling)
        layout.addWidget(roots)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.add_choice.clicked.connect(lambda: self.add_folder(Path(self.choices.currentData())))
        self.add_other.clicked.connect(self.pick_folder)
        self.remove.clicked.connect(self.remove_selected)

    def add_folder(self, folder: Path) -> None:
        """List ``folder`` (once)."""
        if str(folder) not in self._listed():
            self.folders_list.addItem(str(folder))

    def pick_folder(self) -> None:
        """Any folder, through the system's folder picker."""
        chosen = QFileDialog.getExistingDirectory(
            self, "Folder this server may see", str(Path.home())
        )
        if chosen:
            self.add_folder(Path(chosen))

    def remove_selected(self) -> None:
        for item in self.folders_list.selectedItems():
            self.folders_list.takeItem(self.folders_list.row(item))

    def _listed(self) -> list[str]:
        return [self.folders_list.item(row).text() for row in range(self.folders_list.count())]

    def sampling(self) -> SamplingGrant:
        """The sampling grant as edited (the chosen provider, if any, kept)."""
        return self._grants.sampling.model_copy(
            update={
                "source": self.source.currentData(),
                "approval": self.approval.currentData(),
                "max_tokens": self.max_tokens.value(),
            }
        )

    def folders(self) -> list[Path]:
        return [Path(text) for text in self._listed()]


async def edit_permissions(parent: QWidget, roots: object, server: str) -> bool:
    """Show ``server``'s permissions; once saved, keep them (the folders first: a folder that
    is gone raises ``ConfigError`` and changes nothing). True when saved."""
    from hybridmcp_app.services.mcp_roots import McpRoots  # imports the MCP SDK: not at start-up

    if not isinstance(roots, McpRoots):
        raise HybridMCPError("this MCP host grants nothing to servers")
    dialog = QtServerPermissionsDialog(
        server, await roots.grants_for(server), roots.choices(), parent
    )
    await dialog_closed(dialog)
    if dialog.result() != QDialog.DialogCode.Accepted:
        return False
    folders, sampling = dialog.folders(), dialog.sampling()  # read before the dialog is deleted
    await roots.grant(server, folders)
    await roots.set_sampling(server, sampling)
    return True
