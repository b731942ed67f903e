"""Settings → Local model: finding GGUF files on disk and switching to one (real model)."""

from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QLineEdit, QScrollArea
from pytestqt.qtbot import QtBot

from hybridmcp_app.llm.embedded_model import EMBEDDED_LABEL
from hybridmcp_app.llm.embedded_models import SMOLLM2_LABEL
from hybridmcp_app.llm.local_model_service import LocalModelState
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.settings.qt_model_picker import QtModelPicker
from hybridmcp_app.ui.settings.qt_settings_dialog import PAGE_INDEX
from tests.helpers.gguf_files import write_tiny_gguf
from tests.helpers.waiting import PATIENCE_MS, wait_until


def table_texts(picker: QtModelPicker) -> list[list[str]]:
    table = picker.table
    return [
        [item.text() if (item := table.item(row, column)) else "" for column in range(7)]
        for row in range(table.rowCount())
    ]


@pytest.fixture
def home_with_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedded_model: Path) -> Path:
    home = tmp_path / "user-home"
    studio = home / ".lmstudio" / "models" / "google" / "gemma-3-270m-GGUF"
    studio.mkdir(parents=True)
    (studio / "gemma-3-270m-it.gguf").symlink_to(embedded_model)
    jan = home / "jan" / "models"
    jan.mkdir(parents=True)
    write_tiny_gguf(jan / "tiny-chat.gguf", chat_template="{{ messages }}")
    monkeypatch.setenv("HOME", str(home))
    return home


def test_scanning_lists_models_with_their_metadata_and_one_can_be_chosen_and_loaded(
    home_with_models: Path,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
) -> None:
    window = make_window()
    dialog = window.open_settings()
    picker = dialog.model_picker
    assert isinstance(picker, QtModelPicker)
    assert picker.loaded.text() == "No local model is loaded."
    qt_loop.run_until_complete(picker.start_scan())
    rows = {cells[0]: cells[1:] for cells in table_texts(picker)}
    assert rows["gemma-3-270m-it"][:4] == ["LM Studio", "gemma3", "Q4_K_M", "32,768"]
    assert rows["gemma-3-270m-it"][5] == "no (base)"
    assert rows["tiny-chat"][0] == "Jan"
    assert rows["tiny-chat"][5] == "yes"
    assert "Found 2 model(s)" in picker.status.text()

    row = [cells[0] for cells in table_texts(picker)].index("gemma-3-270m-it")
    picker.use_row(row)
    path_editor = dialog.findChild(QLineEdit, "llm.local.model_path")
    assert path_editor is not None
    assert path_editor.text().endswith("gemma-3-270m-it.gguf")
    dialog.save()
    service = window.context.local_model
    qt_loop.run_until_complete(wait_until(lambda: service.status.state is LocalModelState.READY))
    assert service.status.label == "Gemma 3 270m"  # the name inside the file, not the demo label
    assert "Gemma 3 270m" in window.chat_view.model_label.text()


def test_the_demo_model_button_clears_the_chosen_file(
    home_with_models: Path, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    dialog = window.open_settings()
    path_editor = dialog.findChild(QLineEdit, "llm.local.model_path")
    assert path_editor is not None
    path_editor.setText("/models/other.gguf")
    assert isinstance(dialog.model_picker, QtModelPicker)
    dialog.model_picker.embedded_button.click()
    assert path_editor.text() == ""


def test_the_local_model_page_fits_the_dialog_at_its_default_size_with_the_models_found(
    home_with_models: Path,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
) -> None:
    window = make_window()
    dialog = window.open_settings()
    dialog.sections.setCurrentRow(PAGE_INDEX["Local model"])
    qtbot.waitExposed(dialog, timeout=PATIENCE_MS)
    picker = dialog.model_picker
    assert isinstance(picker, QtModelPicker)
    qt_loop.run_until_complete(picker.start_scan())
    page = dialog.pages.currentWidget()
    assert isinstance(page, QScrollArea)

    def fits() -> None:  # once the layout has settled
        viewport = page.viewport()
        assert not page.horizontalScrollBar().isVisible()  # nothing is cut off at the right
        buttons = (picker.scan_button, picker.embedded_button)
        for widget in (*buttons, picker.table):
            right = widget.mapTo(viewport, widget.rect().topRight()).x()
            assert right <= viewport.width(), f"{widget} ends at {right} of {viewport.width()}"
        assert picker.table.height() >= 2 * picker.table.verticalHeader().defaultSectionSize()

    qtbot.waitUntil(fits, timeout=PATIENCE_MS)


def test_the_base_model_can_be_chosen_among_the_embedded_models_and_the_chat_model_is_the_default(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, embedded_model: Path
) -> None:
    window = make_window()
    dialog = window.open_settings()
    picker = dialog.model_picker
    assert isinstance(picker, QtModelPicker)
    choice = picker.embedded_choice
    labels = [choice.itemText(index) for index in range(choice.count())]
    assert labels == [SMOLLM2_LABEL, EMBEDDED_LABEL]
    assert "tiny demo chat model" in SMOLLM2_LABEL
    assert choice.currentIndex() == labels.index(SMOLLM2_LABEL)  # the default, offered first
    path_editor = dialog.findChild(QLineEdit, "llm.local.model_path")
    assert path_editor is not None
    path_editor.setText("/models/other.gguf")
    assert picker.use_embedded() is None  # the default needs no file: the editor empties
    assert path_editor.text() == ""
    choice.setCurrentIndex(labels.index(EMBEDDED_LABEL))
    task = picker.use_embedded()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert Path(path_editor.text()) == embedded_model  # Gemma's joined file
    dialog.save()
    service = window.context.local_model
    qt_loop.run_until_complete(wait_until(lambda: service.status.state is LocalModelState.READY))
    assert service.status.label == EMBEDDED_LABEL
    assert service.backend is not None and not service.backend.capabilities.has_chat_template
    assert EMBEDDED_LABEL in window.chat_view.model_label.text()
