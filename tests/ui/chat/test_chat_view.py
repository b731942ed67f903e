"""The Chat tab with the real embedded model and a real provider server, on the qasync loop."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog
from pytestqt.qtbot import QtBot

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.llm_configs import ProvidersConfig
from hybridmcp_app.llm.embedded_model import EMBEDDED_LABEL, EMBEDDED_NOTE
from hybridmcp_app.llm.embedded_models import SMOLLM2_LABEL, SMOLLM2_NOTE
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.failing_provider import Reply, chunk, failing_provider
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.ui.chat_steps import (
    FEW_SHOT,
    ask,
    load_model,
    save_settings,
    start_a_long_local_answer,
    use_parameters,
)


@pytest.fixture
def window(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], embedded_model: Path
) -> MainWindow:
    """The window over Gemma base, chosen by its file: these tests send ``FEW_SHOT``."""
    save_settings(app_paths, model=embedded_model)
    return make_window()


def test_a_fresh_install_chats_with_the_tiny_chat_model_and_says_what_it_is(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    save_settings(app_paths)  # no model chosen: the default
    window = make_window()
    view = window.chat_view
    assert "No local model loaded" in view.model_label.text()
    assert view.add_provider.isVisibleTo(view)  # no provider yet: the view offers one
    load_model(window, qt_loop)
    assert SMOLLM2_LABEL in view.model_label.text()
    assert view.note.text() == SMOLLM2_NOTE
    assert "tiny demo chat model" in SMOLLM2_NOTE and "Settings → Local model" in SMOLLM2_NOTE
    view.select_strategy("local")
    assert not view.continue_text.isChecked()  # a chat model answers through its template
    use_parameters(window, temperature=0.0, max_tokens=24)
    ask(window, qt_loop, "What is the opposite of hot?")
    assert "cold" in view._panes["local"].answer.lower()


def test_gemma_base_chosen_by_its_file_says_it_only_continues_text(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    view = window.chat_view
    load_model(window, qt_loop)
    assert EMBEDDED_LABEL in view.model_label.text()
    assert view.note.text() == EMBEDDED_NOTE
    view.select_strategy("local")
    assert view.continue_text.isChecked()  # a base model continues text


def test_a_local_answer_streams_into_its_pane_with_metrics(
    window: MainWindow, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    load_model(window, qt_loop)
    view = window.chat_view
    view.select_strategy("local")
    view.prompt.setPlainText(FEW_SHOT)
    qtbot.keyClick(view.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.answering
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    pane = view._panes["local"]
    assert pane.answer.strip() == "Rome"
    assert "tok/s" in pane.footer.text()
    assert view.send_button.isEnabled() and not view.stop_button.isEnabled()
    assert view.busy.isHidden()


def test_side_by_side_both_models_answer_and_the_trace_says_what_was_saved(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    memory_keyring: MemoryKeyring,
) -> None:
    save_settings(app_paths, provider_server)
    memory_keyring.set_password("HybridMCP", "LAB_KEY", provider_server.api_key)
    window = make_window()
    load_model(window, qt_loop)
    view = window.chat_view
    assert "lab" in view.provider_label.text()
    ask(window, qt_loop, "Name a colour.", "parallel")
    assert set(view._panes) == {"local", "provider"}
    assert all(pane.footer.text() for pane in view._panes.values())
    assert view.trace.text().startswith("parallel: provider read")
    view._panes["local"].continue_button.click()
    assert "new branch" in view.trace.text()
    assert window.context.chat.conversation.turns[-1].chosen_leg == "local"


def test_without_a_provider_the_default_strategy_answers_locally_and_says_why(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    load_model(window, qt_loop)
    view = window.chat_view
    first = view.strategy_name  # the first question, with the strategy the chat starts with
    assert first == window.context.settings.llm.hybrid.default_strategy == "parallel"
    ask(window, qt_loop, "hello", first)
    assert set(view._panes) == {"local"} and view._panes["local"].answer.strip()
    trace = view.trace.text()
    assert trace.startswith("no provider is set up, so the local model answers alone")
    # a local answer by necessity spares the provider nothing, so no saving is shown at all
    assert trace.endswith("answered on this computer; no provider is set up")
    assert "saved" not in trace and "spared" not in trace
    turn = window.context.chat.conversation.turns[-1]
    assert turn.chosen_leg == "local"


def test_escape_stops_every_leg_and_the_next_answer_works(
    window: MainWindow, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    view = start_a_long_local_answer(window, qt_loop)
    qtbot.keyClick(view.prompt, Qt.Key.Key_Escape)
    # The usual deadline: how fast a stop lands is measured by a benchmark, not asserted here.
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    assert view._panes["local"].text.toPlainText().rstrip().endswith("[stopped]")
    assert window.context.chat.conversation.turns[-1].partial
    use_parameters(window, temperature=0.0, max_tokens=8, stop=["\n"])
    ask(window, qt_loop, FEW_SHOT)
    assert view._panes["local"].answer.strip() == "Rome"


def test_a_bad_model_file_is_reported_and_the_loaded_model_keeps_answering(
    window: MainWindow, qt_loop: qasync.QEventLoop, app_paths: AppPaths
) -> None:
    load_model(window, qt_loop)
    broken = app_paths.data_dir / "broken.gguf"
    broken.write_bytes(b"not a model at all")
    settings = window.context.settings
    local = settings.llm.local.model_copy(update={"model_path": broken})
    window.apply_settings(
        settings.model_copy(update={"llm": settings.llm.model_copy(update={"local": local})})
    )
    view = window.chat_view
    qt_loop.run_until_complete(wait_until(lambda: "broken.gguf" in view.note.text()))
    assert "is not a GGUF model" in view.note.text()
    assert EMBEDDED_LABEL in view.model_label.text()
    window.context.settings = settings  # the chat reads its sampling settings from here
    ask(window, qt_loop, FEW_SHOT)
    assert view._panes["local"].answer.strip() == "Rome"


def test_the_model_can_be_unloaded_and_loaded_again_from_the_chat_tab(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    view = window.chat_view
    assert view.load_button.text() == "Load"
    qt_loop.run_until_complete(view.toggle_loaded())
    assert view.load_button.text() == "Unload"
    qt_loop.run_until_complete(view.toggle_loaded())
    assert window.context.local_model.backend is None
    assert view.load_button.text() == "Load"


def test_closing_the_app_mid_answer_shuts_down_cleanly(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    start_a_long_local_answer(window, qt_loop)
    window.close()
    # Each stage waits at most SHUTDOWN_TIMEOUT_S (2 s); nothing may be left running after it.
    assert shut_down(window.context, qt_loop) == []
    assert window.context.local_model.backend is None
    assert window.context.chat.conversation.turns[-1].partial  # the partial turn was saved


def test_the_history_lists_turns_and_can_open_search_rename_delete_undo_and_export(
    window: MainWindow,
    qt_loop: qasync.QEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_model(window, qt_loop)
    ask(window, qt_loop, FEW_SHOT)
    sidebar = window.history_sidebar
    assert sidebar.list.count() == 1
    assert sidebar.list.item(0).text().startswith("Q: What is the capital of France?")
    window.chat_view.new_chat()
    ask(window, qt_loop, "Q: What is the capital of Spain?\nA:")
    assert sidebar.list.count() == 2
    sidebar.search.setText("Germany")
    assert sidebar.list.count() == 1
    sidebar.list.setCurrentRow(0)
    qt_loop.run_until_complete(window.open_conversation(sidebar.selected_id() or ""))
    assert window.chat_view._panes["local"].answer.strip() == "Rome"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Capitals", True))
    sidebar.rename_selected()
    assert sidebar.list.item(0).text().startswith("Capitals\n")
    export = tmp_path / "capitals.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(export), ""))
    assert sidebar.export_selected() == export
    assert export.read_text().startswith("# Capitals\n")
    sidebar.delete_selected()
    assert sidebar.list.count() == 0
    window.banner.action_button.click()  # Undo
    assert sidebar.list.count() == 1


def test_regenerate_asks_the_last_prompt_again(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    load_model(window, qt_loop)
    view = window.chat_view
    assert not view.regenerate_button.isEnabled()
    ask(window, qt_loop, FEW_SHOT)
    assert view.regenerate_button.isEnabled()
    task = view.regenerate()
    assert task is not None
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    turns = window.context.chat.conversation.turns
    assert [t.prompt for t in turns] == [FEW_SHOT, FEW_SHOT]


def test_a_provider_saved_in_settings_shows_in_the_chat_at_once(
    window: MainWindow, provider_server: LlamaServer
) -> None:
    view = window.chat_view
    assert view.provider_label.text() == "No provider yet" and view.add_provider.isVisibleTo(view)
    providers = ProvidersConfig.model_validate({
        "items": [{"name": "lab", "base_url": provider_server.base_url,
                   "default_model": "gemma"}],
        "active": "lab",
    })  # fmt: skip
    window.apply_settings(window.context.settings.model_copy(update={"providers": providers}))
    assert "lab" in view.provider_label.text()  # before, only after the strategy changed
    assert not view.add_provider.isVisibleTo(view)


def test_a_provider_answer_without_text_says_what_the_provider_returned(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    memory_keyring: MemoryKeyring,
) -> None:
    usage = json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 0,
                        "model": "gemma", "choices": [],
                        "usage": {"prompt_tokens": 31, "completion_tokens": 0,
                                  "total_tokens": 31}})  # fmt: skip
    empty = Reply(sse=[chunk("", finish="stop"), usage, "[DONE]"])
    with failing_provider([empty]) as server:
        providers = {"items": [{"name": "lab", "base_url": server.base_url,
                                "default_model": "gemma", "api_key_secret": "LAB_KEY",
                                "timeout_s": PATIENCE_S, "first_token_timeout_s": PATIENCE_S}],
                     "active": "lab"}  # fmt: skip
        SettingsStore(app_paths).save(Settings.model_validate({"providers": providers}))
        memory_keyring.set_password("HybridMCP", "LAB_KEY", "lab-key")
        window = make_window()
        ask(window, qt_loop, "Name a colour.", "provider")
    pane = window.chat_view._panes["provider"]
    said = pane.text.toPlainText()
    assert "lab returned no text (finish reason: stop; 31 prompt tokens, 0 completion" in said
    assert pane.footer.text().startswith("failed: lab returned no text")


def test_the_outcome_line_counts_a_saving_only_when_the_provider_was_spared_one() -> None:
    from hybridmcp_app.orchestration.events import HybridTrace, LegTrace
    from hybridmcp_app.ui.chat.qt_chat_view import outcome_line

    alone = HybridTrace(strategy="local", baseline_prompt_tokens=8)
    assert outcome_line(alone) == "local: answered on this computer; no provider is set up"
    by_choice = HybridTrace(strategy="local", provider="lab", baseline_prompt_tokens=8)
    assert outcome_line(by_choice).endswith("the provider was not called")
    routed = by_choice.model_copy(update={"strategy": "route", "saving": "without_provider"})
    assert outcome_line(routed).endswith("not called (spared 8 prompt tokens)")
    legs = (LegTrace(leg="provider", backend="lab", role="answer"),)
    sent = routed.model_copy(
        update={
            "legs": legs,
            "saving": "fewer_tokens",
            "provider_prompt_tokens": 5,
            "provider_prompt_tokens_estimated": 5,
            "cost_usd": 0.001,
        }
    )
    assert outcome_line(sent) == (
        "route: provider read 5 prompt tokens of 8 (saved 3) · cost $0.00100"
    )
