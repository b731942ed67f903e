"""The Library tab in the real window, as the app opens it (``start_library``): watched folders
that follow the disk, document details, backup and restore with Undo, and a library that another
process holds."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QMessageBox

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import DocumentsSettings, Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.services.app_startup import start_library
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.chroma_corpus import write_corpus
from tests.helpers.waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.integration


def open_library(window: MainWindow, loop: qasync.QEventLoop) -> LibraryService:
    library: LibraryService | None = loop.run_until_complete(
        start_library(window.context, window.library_ready)
    )
    assert library is not None
    return library


def names_in_table(window: MainWindow) -> set[str]:
    model = window.library_view.files.table.model()
    return {str(model.index(row, 0).data()) for row in range(model.rowCount())}


@pytest.fixture
def watched_window(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
) -> Iterator[tuple[MainWindow, Path]]:
    folder = tmp_path / "notes"
    write_corpus(folder, files=2, paragraphs=2)
    settings = Settings(documents=DocumentsSettings(watch_folders=(folder,)))
    SettingsStore(app_paths).save(settings)
    window = make_window()
    library = open_library(window, qt_loop)
    yield window, folder
    qt_loop.run_until_complete(window.context.tasks.shutdown(timeout_s=PATIENCE_S))
    qt_loop.run_until_complete(library.close())


def test_a_watched_folder_is_caught_up_then_followed_and_shown_in_the_tab(
    watched_window: tuple[MainWindow, Path], qt_loop: qasync.QEventLoop
) -> None:
    window, folder = watched_window
    watched = window.library_extras.watched
    qt_loop.run_until_complete(
        wait_until(lambda: names_in_table(window) == {"note-000.md", "note-001.md", "keeper.txt"})
    )
    assert "3 document(s), synced just now" in watched.list.item(0).text()
    assert str(folder) in watched.list.item(0).text()

    (folder / "otters.md").write_text("# Otters\n\nOtters hold hands while they sleep.\n")
    qt_loop.run_until_complete(wait_until(lambda: "otters.md" in names_in_table(window)))
    qt_loop.run_until_complete(wait_until(lambda: "4 document(s)" in watched.list.item(0).text()))

    # The watched folder is kept in the settings, and "Stop watching" keeps the documents.
    assert list(window.context.settings.documents.watch_folders) == [folder]
    watched.list.setCurrentRow(0)
    task = watched.unwatch_selected()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert list(window.context.settings.documents.watch_folders) == []
    assert "No watched folder" in watched.list.item(0).text()
    assert "otters.md" in names_in_table(window)


def test_selecting_a_document_shows_its_details(
    watched_window: tuple[MainWindow, Path], qt_loop: qasync.QEventLoop
) -> None:
    window, _folder = watched_window
    view, details = window.library_view, window.library_extras.details
    qt_loop.run_until_complete(wait_until(lambda: len(names_in_table(window)) == 3))
    view.files.table.selectRow(0)
    qt_loop.run_until_complete(wait_until(lambda: details.analysis is not None))
    assert details.analysis is not None and details.analysis.words > 10
    assert details.analysis.language == "en"
    assert "words" in details.text.text() and "Key phrases" in details.text.text()
    assert not details.summarize_button.isEnabled() or window.context.local_model.backend is None


def test_a_restore_replaces_the_library_and_undo_brings_it_back(
    watched_window: tuple[MainWindow, Path],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window, folder = watched_window
    extras, banner = window.library_extras, window.banner
    qt_loop.run_until_complete(wait_until(lambda: len(names_in_table(window)) == 3))
    backup = tmp_path / "saved.hmlib.zip"
    task = extras.backup(backup)
    assert task is not None
    qt_loop.run_until_complete(task)
    assert backup.exists() and "Backed up 3 file(s)" in banner.label.text()

    (folder / "later.md").write_text("# Later\n\nWritten after the backup.\n")
    qt_loop.run_until_complete(wait_until(lambda: "later.md" in names_in_table(window)))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getOpenFileName", lambda *a, **k: (str(backup), "")
    )
    # Stop following the folder first, or the watcher would add later.md right back.
    extras.watched.list.setCurrentRow(0)
    unwatching = extras.watched.unwatch_selected()
    assert unwatching is not None
    qt_loop.run_until_complete(unwatching)
    task = extras.choose_restore()
    assert task is not None
    qt_loop.run_until_complete(task)
    qt_loop.run_until_complete(wait_until(lambda: "later.md" not in names_in_table(window)))
    assert "Restored 3 file(s)" in banner.label.text()
    assert banner.action_button.isVisible() and banner.action_button.text() == "Undo"

    banner.action_button.click()
    qt_loop.run_until_complete(wait_until(lambda: "later.md" in names_in_table(window)))


def test_a_library_held_by_another_process_is_explained_in_the_tab(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, app_paths: AppPaths
) -> None:
    holder = qt_loop.run_until_complete(
        LibraryService.open(DocumentsSettings(), app_paths.data_dir, OnnxEmbedder(threads=1))
    )
    try:
        window = make_window()
        assert (
            qt_loop.run_until_complete(start_library(window.context, window.library_ready)) is None
        )
        text = window.library_view.stats_label.text()
        assert "could not open" in text and "open in" in text
        assert "could not open" in window.banner.label.text()
        assert not window.library_extras.backup_button.isEnabled()
    finally:
        qt_loop.run_until_complete(holder.close())
