"""The Chat tab with the real embedded model, on the app's qasync event loop."""

from collections.abc import Callable

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_model import EMBEDDED_NOTE
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.waiting import wait_until

FEW_SHOT = (
    "Q: What is the capital of France?\nA: Paris\n"
    "Q: What is the capital of Germany?\nA: Berlin\n"
    "Q: What is the capital of Italy?\nA:"
)


@pytest.fixture
def window(app_paths: AppPaths, make_window: Callable[..., MainWindow]) -> MainWindow:
    parameters = {"temperature": 0.0, "max_tokens": 8, "stop": ["\n"]}
    settings = Settings.model_validate(
        {"llm": {"local": {"inference": {"n_ctx": 1024, "parameters": parameters}}}}
    )
    SettingsStore(app_paths).save(settings)
    return make_window()


def use_parameters(window: MainWindow, **parameters: object) -> None:
    """Change the sampling parameters the chat view reads for its next request."""
    settings = window.context.settings
    inference = settings.llm.local.inference.model_copy(
        update={"parameters": ModelParameters.model_validate(parameters)}
    )
    local = settings.llm.local.model_copy(update={"inference": inference})
    llm = settings.llm.model_copy(update={"local": local})
    window.context.settings = settings.model_copy(update={"llm": llm})


def load_model(window: MainWindow, loop: qasync.QEventLoop) -> None:
    loop.run_until_complete(window.context.local_model.load(window.context.settings.llm.local))


def test_the_embedded_model_loads_and_says_honestly_what_it_is(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    view = window.chat_view
    assert "No local model loaded" in view.model_label.text()
    assert not view.send_button.isEnabled()
    load_model(window, qt_loop)
    assert "Gemma 3 270M (base, demo)" in view.model_label.text()
    assert view.note.text() == EMBEDDED_NOTE
    assert view.continue_text.isChecked()  # a base model continues text
    assert view.send_button.isEnabled()


def test_a_prompt_streams_an_answer_into_the_transcript_with_metrics(
    window: MainWindow, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    load_model(window, qt_loop)
    view = window.chat_view
    view.prompt.setPlainText(FEW_SHOT)
    qtbot.keyClick(view.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.answering
    assert view.prompt.toPlainText() == ""
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    transcript = view.transcript.toPlainText()
    assert transcript.startswith("You\n" + FEW_SHOT)
    assert transcript.rstrip().endswith("Gemma 3 270M (base, demo)\n Rome")
    assert "tok/s" in view.metrics.text()
    assert "tokens" in view.metrics.text()
    assert view.send_button.isEnabled()
    assert not view.stop_button.isEnabled()
    assert view.busy.isHidden()


def test_escape_stops_a_long_answer_and_the_next_one_works(
    window: MainWindow, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    load_model(window, qt_loop)
    view = window.chat_view
    use_parameters(window, max_tokens=500)
    view.prompt.setPlainText("Once upon a time")
    view.send()
    before = view.transcript.toPlainText()
    qt_loop.run_until_complete(
        wait_until(lambda: len(view.transcript.toPlainText()) > len(before) + 20)
    )
    shown = len(view.transcript.toPlainText())
    qtbot.keyClick(view.prompt, Qt.Key.Key_Escape)
    qt_loop.run_until_complete(wait_until(lambda: not view.answering, timeout_s=5))
    text = view.transcript.toPlainText()
    assert text.rstrip().endswith("[stopped]")
    assert len(text) - shown < 40  # at most the token in flight, then the marker
    use_parameters(window, temperature=0.0, max_tokens=8, stop=["\n"])
    view.prompt.setPlainText(FEW_SHOT)
    view.send()
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    assert view.transcript.toPlainText().rstrip().endswith("Rome")


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
    assert "Gemma 3 270M (base, demo)" in view.model_label.text()
    view.prompt.setPlainText(FEW_SHOT)
    view.send()
    qt_loop.run_until_complete(wait_until(lambda: not view.answering))
    assert view.transcript.toPlainText().rstrip().endswith("Rome")


def test_closing_the_app_mid_answer_shuts_down_within_two_seconds(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    load_model(window, qt_loop)
    view = window.chat_view
    use_parameters(window, max_tokens=500)
    view.prompt.setPlainText("Once upon a time")
    view.send()
    qt_loop.run_until_complete(wait_until(lambda: len(view.transcript.toPlainText()) > 40))
    window.close()
    # Each stage waits at most SHUTDOWN_TIMEOUT_S (2 s); nothing may be left running after it.
    stuck = shut_down(window.context, qt_loop)
    assert stuck == []
    assert window.context.local_model.backend is None


def test_the_model_can_be_unloaded_and_loaded_again_from_the_chat_tab(
    window: MainWindow, qt_loop: qasync.QEventLoop
) -> None:
    view = window.chat_view
    assert view.load_button.text() == "Load"
    qt_loop.run_until_complete(view.toggle_loaded())
    assert view.load_button.text() == "Unload"
    assert window.context.local_model.backend is not None
    qt_loop.run_until_complete(view.toggle_loaded())
    assert window.context.local_model.backend is None
    assert view.load_button.text() == "Load"
    assert not view.send_button.isEnabled()
