"""Answering from the document library in the chat: the real library (Chroma, embedder), the
real local model and the llama.cpp server as provider; sources listed, clickable and saved."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QFileDialog

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.services.app_startup import start_library
from hybridmcp_app.ui import main_window as main_window_module
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.chroma_corpus import FACT, write_corpus
from tests.helpers.documents_corpus import write_pdf
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import wait_until
from tests.ui.chat_steps import ask, load_model, save_settings, use_parameters

pytestmark = pytest.mark.integration
QUESTION = "What is the launch code of the lighthouse keeper?"


@pytest.fixture
def opened() -> list[tuple[Path, int | None]]:
    return []


@pytest.fixture
def library_window(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    opened: list[tuple[Path, int | None]],
    tmp_path: Path,
) -> Iterator[MainWindow]:
    """A window with the model loaded, provider "lab", and a library holding notes and a PDF
    whose third page carries the fact asked about."""
    save_settings(app_paths, provider_server)
    memory_keyring.set_password("HybridMCP", "LAB_KEY", provider_server.api_key)
    monkeypatch.setattr(
        main_window_module, "open_source", lambda path, page: opened.append((path, page))
    )
    window = make_window()
    load_model(window, qt_loop)
    use_parameters(window, temperature=0.0, max_tokens=24)
    corpus = tmp_path / "documents"
    (fact_file,) = [path for path in write_corpus(corpus, files=4) if path.suffix == ".txt"]
    fact_file.unlink()
    write_pdf(corpus / "harbour-log.pdf", pages=4, lines=3)
    import pymupdf

    with pymupdf.open(corpus / "harbour-log.pdf") as pdf:
        pdf[2].insert_text((72, 400), FACT, fontsize=9)
        pdf.saveIncr()
    problems: list[str | None] = []
    library = qt_loop.run_until_complete(
        start_library(window.context, lambda _library, problem: problems.append(problem))
    )
    assert problems == [None] and library is not None
    report = qt_loop.run_until_complete(library.add([corpus]))
    assert report.failed == 0 and report.indexed == 5
    yield window
    qt_loop.run_until_complete(library.close())


def test_an_answer_from_the_library_lists_its_sources_and_opens_the_cited_page(
    library_window: MainWindow,
    qt_loop: qasync.QEventLoop,
    opened: list[tuple[Path, int | None]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = library_window.chat_view
    view.use_library.setChecked(True)
    ask(library_window, qt_loop, QUESTION, "boost")
    sources = view.sources.sources
    assert sources and view.sources.isVisibleTo(view)
    best = sources[0]
    assert (best.path.name, best.page) == ("harbour-log.pdf", 3)
    assert FACT in best.text
    assert "harbour-log.pdf, p. 3" in view.sources.toPlainText()
    assert f"library: {len(sources)} passage(s) given to the model" in view.trace.text()

    # The passages are short (about 200 tokens): Boost sends them as they are, and says so.
    turn = library_window.context.chat.conversation.turns[-1]
    assert turn.sources == sources
    assert 0 < turn.provider_prompt_tokens <= turn.baseline_prompt_tokens
    assert "sent the sources as they are" in view.trace.text()

    view.sources.open_link(QUrl(f"source:{best.number}"))
    assert opened == [(best.path, 3)]

    export = tmp_path / "turn.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(export), ""))
    sidebar = library_window.history_sidebar
    qt_loop.run_until_complete(wait_until(lambda: sidebar.list.count() == 1))
    sidebar.list.setCurrentRow(0)
    assert sidebar.export_selected() == export
    exported = export.read_text(encoding="utf-8")
    assert "**Sources**" in exported and f"1. {best.label}" in exported


def test_sources_come_back_with_an_opened_conversation_and_go_without_the_toggle(
    library_window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    view = library_window.chat_view
    view.use_library.setChecked(True)
    ask(library_window, qt_loop, QUESTION, "local")
    shown = view.sources.sources
    assert shown
    conversation = library_window.context.chat.conversation
    view.new_chat()
    assert not view.sources.isVisibleTo(view)
    qt_loop.run_until_complete(library_window.open_conversation(conversation.id))
    assert view.sources.sources == shown and view.sources.isVisibleTo(view)

    view.use_library.setChecked(False)
    ask(library_window, qt_loop, "Hello", "local")
    assert view.sources.sources == () and not view.sources.isVisibleTo(view)
    assert library_window.context.chat.conversation.turns[-1].sources == ()


def test_asking_with_the_library_before_it_opens_answers_without_it(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
) -> None:
    save_settings(app_paths)
    window = make_window()
    load_model(window, qt_loop)
    view = window.chat_view
    view.use_library.setChecked(True)
    ask(window, qt_loop, "Q: 2+2?\nA:", "local")
    assert "the library is not open yet" in view.trace.text()
    assert view._panes["local"].answer
    assert window.context.chat.conversation.turns[-1].sources == ()
