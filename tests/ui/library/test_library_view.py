"""The Library tab over a real library: embedded Chroma in a temporary folder, the offline
embedder, real Markdown, text and PDF files (one of them corrupt)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pymupdf
import pytest
import qasync
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.documents.document_models import FileState, FileStatus, ScannedFile
from hybridmcp_app.documents.library_indexer import Started
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.documents.parse_pool import parse_one
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.ui.library.qt_library_files_model import STATE, LibraryFilesModel
from hybridmcp_app.ui.library.qt_library_search import HTML_ROLE, snippet_html
from hybridmcp_app.ui.library.qt_library_view import QtLibraryView
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from tests.helpers.chroma_corpus import FACT_QUESTION, write_corpus
from tests.helpers.documents_corpus import write_garbage
from tests.helpers.waiting import PATIENCE_MS, PATIENCE_S, wait_until

pytestmark = pytest.mark.integration
SETTINGS = DocumentsSettings()
PAGES = (  # one topic a page, so a question finds one page
    "Volcanoes pour out lava flows that cool into black basalt fields.",
    "The lighthouse keeper keeps the launch code PELICAN-42 on a brass plate.",
    "Sourdough bread rises slowly on a starter fed with flour and water.",
)
Opened = Callable[..., LibraryService]


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=2)


@pytest.fixture
def tasks(qt_loop: qasync.QEventLoop) -> Iterator[BackgroundTasks]:
    tasks = BackgroundTasks(qt_loop)
    yield tasks
    assert qt_loop.run_until_complete(tasks.shutdown(timeout_s=PATIENCE_S)) == []


@pytest.fixture
def banner(qtbot: QtBot) -> QtBanner:
    banner = QtBanner()
    qtbot.addWidget(banner)
    return banner


@pytest.fixture
def opened(
    qt_loop: qasync.QEventLoop, tmp_path: Path, embedder: OnnxEmbedder, tasks: BackgroundTasks
) -> Iterator[Opened]:
    """Libraries closed after the view's tasks have stopped."""
    libraries: list[LibraryService] = []

    def open_library(**options: Any) -> LibraryService:
        library: LibraryService = qt_loop.run_until_complete(
            LibraryService.open(SETTINGS, tmp_path / "data", embedder, **options)
        )
        libraries.append(library)
        return library

    yield open_library
    for library in libraries:
        qt_loop.run_until_complete(library.close())


@pytest.fixture
def sources() -> list[tuple[Path, int | None]]:
    return []


@pytest.fixture
def view(
    qtbot: QtBot,
    tasks: BackgroundTasks,
    banner: QtBanner,
    sources: list[tuple[Path, int | None]],
) -> QtLibraryView:
    view = QtLibraryView(tasks, banner, open_source=lambda path, page: sources.append((path, page)))
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    qtbot.waitExposed(view, timeout=PATIENCE_MS)
    return view


@pytest.fixture
def settle(tasks: BackgroundTasks, qt_loop: qasync.QEventLoop) -> Callable[[], None]:
    def settle() -> None:
        """Run the loop until the view's tasks (a run and the reload after it, a search) are
        over: qasync runs what is left pending when its loop stops outside the loop."""
        qt_loop.run_until_complete(wait_until(lambda: not tasks.running))

    return settle


def write_topic_pdf(path: Path) -> Path:
    document = pymupdf.open()
    for text in PAGES:
        document.new_page().insert_text((72, 72), text)
    document.save(path)
    document.close()
    return path


class HeldParse:
    """The real parsers, in this process. The first run holds after ``after`` files until it is
    cancelled, so that it is cancelled midway however busy the machine is; later runs go on."""

    def __init__(self, after: int) -> None:
        self.after, self.parsed, self.holding = after, 0, True

    def __call__(
        self, files: Sequence[ScannedFile], cancel: threading.Event, started: Started
    ) -> Iterator[Any]:
        for file in files:
            if self.holding and self.parsed == self.after:
                cancel.wait(PATIENCE_S)  # a safety net: the test cancels the run
                self.holding = False
            if cancel.is_set():
                return
            self.parsed += 1
            started(file)
            yield file, parse_one(file)


def drop(view: QtLibraryView, paths: Sequence[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(view.rect().center(), action, mime, button, modifiers)
    view.dragEnterEvent(enter)
    assert enter.isAccepted()
    view.dropEvent(QDropEvent(QPointF(view.rect().center()), action, mime, button, modifiers))


def states(model: LibraryFilesModel) -> dict[str, FileState]:
    return {status.path.name: status.state for status in model.rows}


def test_the_view_says_the_library_is_opening_then_why_it_could_not_open(
    view: QtLibraryView, banner: QtBanner, tmp_path: Path
) -> None:
    assert view.stats_label.text() == "Opening the library…"
    assert view.files.stack.currentWidget() is view.files.empty
    assert view.files.empty.text().startswith("Drop files or folders here")
    view.set_library(None, "Chroma server unreachable at http://127.0.0.1:8000")
    assert "could not open: Chroma server unreachable" in view.stats_label.text()
    assert not view.drop_zone.add_files_button.isEnabled()
    assert view.add_paths([tmp_path]) is None
    assert banner.isVisible() and "unavailable: Chroma server unreachable" in banner.label.text()
    panel = QLabel("Watched folders")
    view.set_extra_panel(panel)
    assert panel.parent() is view and panel.isVisibleTo(view)


def test_dropping_a_folder_indexes_it_and_shows_each_file_state(
    view: QtLibraryView,
    opened: Opened,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    settle: Callable[[], None],
) -> None:
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\nLava cools into basalt.\n", encoding="utf-8")
    (folder / "blank.txt").write_text("\n   \n\n", encoding="utf-8")
    write_topic_pdf(folder / "topics.pdf")
    broken = write_garbage(folder / "broken.pdf")
    (folder / "data.xyz").write_text("not a document type", encoding="utf-8")
    view.set_library(opened())
    settle()
    at_run_end: dict[str, FileState] = {}

    def before_the_reload(report: object) -> None:
        view.files.flush()
        at_run_end.update(states(view.files.model))

    view.run_finished.connect(before_the_reload)
    drop(view, [folder])
    settle()

    expected = {"notes.md": FileState.INDEXED, "topics.pdf": FileState.INDEXED,
                "broken.pdf": FileState.FAILED, "blank.txt": FileState.SKIPPED}  # fmt: skip
    assert at_run_end == expected  # shown live, before the reload from the ledger
    assert states(view.files.model) == expected
    failed = view.files.model.status(broken)
    assert failed is not None and failed.reason
    row = view.files.model.rows.index(failed)
    tooltip = view.files.model.index(row, STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip == f"failed: {failed.reason}"
    blank = view.files.model.status(folder / "blank.txt")
    assert blank is not None and blank.reason == "the file holds only blank space"
    bar = view.progress.bar
    assert (bar.value(), bar.maximum()) == (4, 4)
    summary = view.progress.summary.text()
    assert "Done in" in summary and "2 files indexed, 1 failed, 1 skipped" in summary
    assert "The scan left out 1 file." in summary
    assert "data.xyz" in view.progress.summary.toolTip()
    assert view.stats_label.text().startswith("4 files · 2 indexed · 1 failed · 0 pending")
    view.files.show_state("Failed")
    assert view.files.visible_paths() == [broken]
    view.files.show_state("Skipped")
    assert view.files.visible_paths() == [folder / "blank.txt"]
    view.files.show_state("All states")
    view.files.filter.setText("TOPICS")
    assert view.files.visible_paths() == [folder / "topics.pdf"]


def test_cancelling_keeps_the_rest_queued_and_resume_finishes_it_with_what_was_dropped_meanwhile(
    view: QtLibraryView,
    opened: Opened,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    qtbot: QtBot,
    settle: Callable[[], None],
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=14, paragraphs=1)
    later = write_corpus(tmp_path / "later", files=1, paragraphs=1)
    library = opened(parse=HeldParse(after=4))
    library.embed_batch = 2  # files settle two by two, not all at once at the end
    view.set_library(library)
    settle()
    view.activateWindow()
    qtbot.waitActive(view, timeout=PATIENCE_MS)

    async def cancel_midway() -> None:
        assert view.add_paths([tmp_path / "corpus"]) is not None
        await wait_until(lambda: view.progress.bar.value() >= 2)
        view.files.flush()
        taken_on = set(states(view.files.model).values())
        assert taken_on & {FileState.QUEUED, FileState.PARSING}  # the run's files, shown
        drop(view, [tmp_path / "later"])
        assert "1 more item to add next" in view.progress.details.text()
        qtbot.keyClick(view.files.table, Qt.Key.Key_Escape)

    qt_loop.run_until_complete(cancel_midway())
    settle()

    shown = states(view.files.model)
    assert set(shown.values()) == {FileState.INDEXED, FileState.QUEUED}
    assert len(shown) == len(corpus)  # the dropped folder was not started
    summary = view.progress.summary.text()
    assert summary.startswith("Cancelled after")
    queued = sum(state is FileState.QUEUED for state in shown.values())
    assert f"{queued} files not finished and 1 dropped item not started" in summary
    assert view.progress.resume_button.isVisible()

    view.progress.resume_button.click()
    settle()
    assert {status.state for status in view.files.model.rows} == {FileState.INDEXED}
    assert len(view.files.model.rows) == len(corpus) + len(later)
    assert not view.progress.resume_button.isVisible()


def test_search_shows_ranked_snippets_with_file_and_page_and_opens_the_source_at_it(
    view: QtLibraryView,
    opened: Opened,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    qtbot: QtBot,
    sources: list[tuple[Path, int | None]],
    settle: Callable[[], None],
) -> None:
    pdf = write_topic_pdf(tmp_path / "topics.pdf")
    notes = tmp_path / "bread.md"
    notes.write_text("# Baking\n\nKnead the dough, then let it rest overnight.\n", encoding="utf-8")
    view.set_library(opened())
    settle()
    view.add_paths([pdf, notes])
    settle()

    view.activateWindow()
    qtbot.waitActive(view, timeout=PATIENCE_MS)
    qtbot.keyClick(view.files.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search_panel.box.hasFocus()
    qtbot.keyClicks(view.search_panel.box, FACT_QUESTION)
    qtbot.keyClick(view.search_panel.box, Qt.Key.Key_Return)
    results = view.search_panel.results
    qt_loop.run_until_complete(wait_until(lambda: results.count() > 0))
    best = view.search_panel.hits()[0]
    assert (best.provenance.path, best.provenance.page) == (pdf, 2)
    scores = [hit.score for hit in view.search_panel.hits()]
    assert scores == sorted(scores, reverse=True)
    text = str(results.item(0).data(HTML_ROLE))
    assert "<b>topics.pdf</b>" in text and "page 2" in text and f"{best.score:.2f}</small>" in text
    marked = re.findall(r"<span style='background-color:[^']*'>(\w+)</span>", text)
    assert marked == ["lighthouse", "keeper", "launch", "code"]  # the query's words
    assert "PELICAN-42 on a brass plate." in text
    assert "passages for “What is the launch code" in view.search_panel.status.text()

    results.setFocus()
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert sources == [(pdf, 2)]
    qtbot.keyClick(view.search_panel.box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(view.search_panel.box, "overnight dough")  # a pause in typing searches
    qt_loop.run_until_complete(
        wait_until(lambda: view.search_panel.hits()[0].provenance.path == notes)
    )
    centre = results.visualItemRect(results.item(0)).center()
    qtbot.mouseClick(results.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # a double
    qtbot.mouseDClick(results.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # click
    assert sources == [(pdf, 2), (notes, None)]


def test_removed_documents_leave_the_library_and_undo_adds_them_back(
    view: QtLibraryView,
    opened: Opened,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    qtbot: QtBot,
    banner: QtBanner,
    settle: Callable[[], None],
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=2, paragraphs=1)
    library = opened()
    view.set_library(library)
    settle()
    view.add_paths([tmp_path / "corpus"])
    settle()
    assert len(view.files.model.rows) == len(corpus)
    chunks = qt_loop.run_until_complete(library.stats()).chunks

    view.files.filter.setText("note-")
    view.files.table.selectAll()
    assert view.remove_button.isEnabled()
    view.activateWindow()
    qtbot.waitActive(view, timeout=PATIENCE_MS)
    view.files.table.setFocus()
    qtbot.keyClick(view.files.table, Qt.Key.Key_Delete)
    qt_loop.run_until_complete(wait_until(lambda: banner.isVisible()))
    assert [status.path for status in view.files.model.rows] == [corpus[-1]]  # keeper.txt
    assert banner.label.text() == ("Removed 2 documents from the library (the files stay on disk).")
    assert all(path.exists() for path in corpus)
    assert qt_loop.run_until_complete(library.stats()).chunks < chunks

    banner.action_button.click()  # Undo
    assert not banner.isVisible()
    settle()
    assert {status.path for status in view.files.model.rows} == set(corpus)
    assert {status.state for status in view.files.model.rows} == {FileState.INDEXED}
    assert qt_loop.run_until_complete(library.stats()).chunks == chunks


def test_files_dropped_while_the_library_opens_are_indexed_once_it_is_open(
    view: QtLibraryView,
    opened: Opened,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    settle: Callable[[], None],
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nBasalt is cooled lava.\n", encoding="utf-8")
    drop(view, [notes])
    assert view.drop_zone.label.text() == "1 item will be added once the library is open."
    view.set_library(opened())
    settle()
    assert states(view.files.model) == {"notes.md": FileState.INDEXED}
    assert view.drop_zone.label.text().startswith("Drop files or folders here")


def test_a_snippet_is_cut_around_the_first_word_of_the_query_and_marks_each_one() -> None:
    text = " ".join(f"filler{n}" for n in range(80)) + " the Keeper keeps <codes> " + "tail " * 80
    snippet = snippet_html(text, "keeper's codes")
    assert snippet.startswith("…") and snippet.endswith("…")
    assert re.findall(r"'>([^<]+)</span>", snippet) == ["Keeper", "codes"]
    assert "&lt;" in snippet  # the chunk's text is escaped, not taken for markup


def test_during_a_run_files_wait_as_queued_and_the_footer_counts_each_one_indexed(
    view: QtLibraryView,
    opened: Opened,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    settle: Callable[[], None],
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=14, paragraphs=1)
    library = opened(parse=HeldParse(after=4))  # the parser holds before its fifth file
    library.embed_batch = 2  # files settle two by two, not all at once at the end
    view.set_library(library)
    settle()

    async def while_held() -> tuple[dict[str, FileState], str, list[str]]:
        assert view.add_paths([tmp_path / "corpus"]) is not None
        model = view.files.model

        def counted() -> bool:
            indexed = model.states[FileState.INDEXED]
            return indexed >= 2 and view.stats_label.text().startswith(
                f"{len(corpus)} files · {indexed} indexed"
            )

        await wait_until(counted)
        shown = states(model)
        footer = view.stats_label.text()
        labels = [str(model.index(row, STATE).data()) for row in range(model.rowCount())]
        view.cancel()
        return shown, footer, labels

    shown, footer, labels = qt_loop.run_until_complete(while_held())
    settle()
    waiting = [name for name, state in shown.items() if state is FileState.QUEUED]
    assert len(waiting) >= len(corpus) - 4  # not taken on by the parser: queued, not "parsing"
    assert FileState.PARSING not in shown.values()  # the parser holds: nothing is being read
    indexed = sum(state is FileState.INDEXED for state in shown.values())
    total = len(corpus)
    counts = f"{total} files · {indexed} indexed · 0 failed · {total - indexed} pending"
    assert footer.startswith(counts)
    assert "embedding" not in labels  # a file on its way into the store reads "indexing"


def test_a_file_on_its_way_into_the_store_reads_indexing(tmp_path: Path) -> None:
    model = LibraryFilesModel()
    model.update([FileStatus(path=tmp_path / "a.md", state=FileState.EMBEDDING)])
    assert model.index(0, STATE).data() == "indexing"
    assert model.states[FileState.EMBEDDING] == 1
