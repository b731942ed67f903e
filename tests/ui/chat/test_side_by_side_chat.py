"""The side-by-side chat as a user drives it: the real embedded model and a real provider server
answer at the same time; branches, history across restarts, export, long answers, hybrid trace."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.ui.chat.markdown_html import MarkdownHtml
from hybridmcp_app.ui.chat.qt_answer_pane import QtAnswerPane
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_MS
from tests.ui.chat_steps import FEW_SHOT, ask, load_model, save_settings, use_parameters


@pytest.fixture
def lab_window(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    memory_keyring: MemoryKeyring,
    embedded_model: Path,
) -> MainWindow:
    """A window with Gemma base loaded (by its file: these tests send ``FEW_SHOT``) and the
    llama.cpp server set up as provider "lab"."""
    save_settings(app_paths, provider_server, model=embedded_model)
    memory_keyring.set_password("HybridMCP", "LAB_KEY", provider_server.api_key)
    window = make_window()
    load_model(window, qt_loop)
    return window


def footer_tokens(pane: QtAnswerPane) -> tuple[int, int]:
    found = re.search(r"(\d+) → (\d+) tokens", pane.footer.text())
    assert found, pane.footer.text()
    return int(found.group(1)), int(found.group(2))


def test_both_panes_stream_at_the_same_time(
    lab_window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    use_parameters(lab_window, temperature=0.0, max_tokens=120, repeat_penalty=1.1)
    ask(lab_window, qt_loop, "Once upon a time", "parallel")
    local, provider = (lab_window.chat_view._panes[leg] for leg in ("local", "provider"))
    for pane in (local, provider):
        assert pane.first_text_at is not None and pane.last_text_at is not None
        assert footer_tokens(pane)[1] > 10
    # Overlap: each pane received text before the other had finished streaming.
    assert local.first_text_at < provider.last_text_at  # type: ignore[operator]
    assert provider.first_text_at < local.last_text_at  # type: ignore[operator]


def test_continuing_from_one_answer_branches_and_the_next_turn_builds_on_it(
    lab_window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    ask(lab_window, qt_loop, FEW_SHOT, "parallel")
    view, chat = lab_window.chat_view, lab_window.context.chat
    original = chat.conversation
    local_answer = view._panes["local"].answer
    view._panes["local"].continue_button.click()
    assert chat.conversation.id != original.id
    ask(lab_window, qt_loop, "Q: And of Spain?\nA:", "local")
    branch = chat.conversation
    assert [turn.prompt for turn in branch.turns] == [FEW_SHOT, "Q: And of Spain?\nA:"]
    assert branch.turns[0].chosen_leg == "local"
    assert branch.messages()[1].content == local_answer  # the next request carried it
    assert view.transcript.isVisibleTo(view)
    assert "What is the capital of France" in view.transcript.toPlainText()
    assert view.prompt_echo.text() == "You: Q: And of Spain?\nA:"
    assert lab_window.history_sidebar.list.count() == 2  # the original is kept


def test_history_survives_a_restart_and_the_export_matches_the_panes(
    lab_window: MainWindow,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ask(lab_window, qt_loop, FEW_SHOT, "parallel")
    shown = {
        leg: (pane.answer, footer_tokens(pane)) for leg, pane in lab_window.chat_view._panes.items()
    }
    lab_window.close()
    assert shut_down(lab_window.context, qt_loop) == []

    restarted = make_window()
    sidebar = restarted.history_sidebar
    assert sidebar.list.count() == 1
    sidebar.list.setCurrentRow(0)
    qt_loop.run_until_complete(restarted.open_conversation(sidebar.selected_id() or ""))
    panes = restarted.chat_view._panes
    assert {leg: (pane.answer, footer_tokens(pane)) for leg, pane in panes.items()} == shown

    export = tmp_path / "turn.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(export), ""))
    assert sidebar.export_selected() == export
    exported = export.read_text(encoding="utf-8")
    for leg, (answer, (tokens_in, tokens_out)) in shown.items():
        assert answer.strip() in exported
        row = next(line for line in exported.splitlines() if line.startswith(f"| {leg}"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert (int(cells[4]), int(cells[5])) == (tokens_in, tokens_out)


def test_a_hybrid_strategy_marks_its_answer_and_expands_to_what_the_local_model_did(
    lab_window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    ask(lab_window, qt_loop, "My password is hunter2, what colour is the sky?", "route")
    view = lab_window.chat_view
    hybrid = [pane for pane in view._panes.values() if pane.title.text().startswith("<b>Hybrid")]
    assert len(hybrid) == 1
    pane = hybrid[0]
    assert "saved" in pane.footer.text()
    assert pane.trace_button.isVisibleTo(pane) and not pane.trace.isVisibleTo(pane)
    pane.trace_button.click()
    assert pane.trace.isVisibleTo(pane)
    assert "route: provider read" in pane.trace.text()
    turn = lab_window.context.chat.conversation.turns[-1]
    assert all(note in pane.trace.text() for note in turn.notes)


def test_a_pane_collapses_and_comes_back(
    lab_window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    ask(lab_window, qt_loop, FEW_SHOT, "parallel")
    pane = lab_window.chat_view._panes["provider"]
    pane.collapse_button.click()
    assert pane.collapsed and not pane.text.isVisibleTo(pane)
    assert pane.maximumWidth() < 200
    pane.collapse_button.click()
    assert not pane.collapsed and pane.text.isVisibleTo(pane)


def test_a_prompt_sent_while_the_model_loads_waits_for_it(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    save_settings(app_paths)  # the default model, the chat model, as on a fresh install
    window = make_window()
    view = window.chat_view
    use_parameters(window, temperature=0.0, max_tokens=24)
    loading = view.toggle_loaded()
    ask(window, qt_loop, "What is the opposite of hot?", "local")
    assert loading.done()
    assert "cold" in view._panes["local"].answer.lower()  # by the model that just loaded
    assert "tok/s" in view._panes["local"].footer.text()
    assert "waiting for the local model to finish loading" in view.trace.text()


def test_a_long_markdown_answer_streamed_in_frames_renders_like_the_whole_text(
    window: MainWindow,
) -> None:
    block = (
        "## Section\n\nSome *emphasis* and `code`, a [link](https://example.org).\n\n"
        "```python\ndef f(x):\n\n    return x * 2\n```\n"
        "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    )
    text = block * (100_000 // len(block) + 1)
    pane = QtAnswerPane("local", "test", "answer", window)
    for start in range(0, len(text), 307):  # about what arrives per frame at speed
        pane.append(text[start : start + 307])
    streamed = pane.text.toPlainText()
    whole = QtAnswerPane("local", "test", "answer", window)
    whole.text.setHtml(MarkdownHtml().render(text))
    assert len(text) > 100_000
    assert streamed.split() == whole.text.toPlainText().split()


@pytest.fixture
def window(app_paths: AppPaths, make_window: Callable[..., MainWindow]) -> MainWindow:
    save_settings(app_paths)
    return make_window()


def test_earlier_turns_show_in_full_with_the_local_and_the_provider_answer(
    lab_window: MainWindow, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    lab_window.resize(1100, 800)
    view = lab_window.chat_view
    ask(lab_window, qt_loop, FEW_SHOT, "parallel")
    answers = {leg: pane.answer.strip() for leg, pane in view._panes.items()}
    assert set(answers) == {"local", "provider"} and all(answers.values())
    ask(lab_window, qt_loop, "Q: And of Spain?\nA:", "local")

    shown = view.transcript.toPlainText()
    for leg, answer in answers.items():
        assert f"{leg.title()} · " in shown and answer in shown

    def shown_in_full() -> None:  # once the splitter has settled
        document = view.transcript.document()
        document.setTextWidth(view.transcript.viewport().width())
        assert view.transcript.viewport().height() >= document.size().height()  # in full
        assert not view.transcript.verticalScrollBar().isVisible()
        assert view.splitter.height() >= 150  # and the answers below keep room of their own

    qtbot.waitUntil(shown_in_full, timeout=PATIENCE_MS)
