"""The settings form generated from the Settings schema: lists of folders are edited as text."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.settings import DocumentsSettings, McpSettings
from hybridmcp_app.core.llm_configs import WrapperConfig
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.ui.settings.qt_settings_dialog import CHOICES, HIDDEN_FIELDS
from hybridmcp_app.ui.settings.qt_settings_form import QtSettingsForm


def test_workspace_roots_are_edited_comma_separated_and_validate_back_to_paths(
    qtbot: QtBot, tmp_path: Path
) -> None:
    form = QtSettingsForm(McpSettings, path="mcp", hidden=HIDDEN_FIELDS)
    qtbot.addWidget(form)
    first, second = tmp_path / "one", tmp_path / "two"
    form.load(McpSettings(workspace_roots=(first,)).model_dump(mode="json"))
    editor = form.editors["mcp.workspace_roots"]
    assert editor.get() == [str(first)]

    line = editor.widget
    assert isinstance(line, QLineEdit) and line.text() == str(first)
    line.setText(f"{first} , {second},")  # as typed: spaces and a trailing comma
    values = form.values()

    assert McpSettings.model_validate(values).workspace_roots == (first, second)


def test_watched_folders_are_left_to_the_library_tab(qtbot: QtBot) -> None:
    form = QtSettingsForm(DocumentsSettings, path="documents", hidden=HIDDEN_FIELDS)
    qtbot.addWidget(form)
    assert "documents.watch_folders" not in form.editors
    assert "documents.exact_search_limit" in form.editors


def test_the_default_strategy_is_chosen_by_the_chats_labels_and_saved_by_name(
    qtbot: QtBot,
) -> None:
    form = QtSettingsForm(WrapperConfig, path="llm.hybrid", choices=CHOICES)
    qtbot.addWidget(form)
    form.load(WrapperConfig(default_strategy="parallel").model_dump(mode="json"))
    combo = form.editors["llm.hybrid.default_strategy"].widget
    assert isinstance(combo, QComboBox)
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == [strategy.label for strategy in STRATEGIES]
    assert combo.currentText() == STRATEGIES.label("parallel") != "parallel"
    combo.setCurrentIndex(labels.index(STRATEGIES.label("boost")))
    assert WrapperConfig.model_validate(form.values()).default_strategy == "boost"
