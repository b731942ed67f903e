""" "Let the models play" in the Turtle Soup tab: the real embedded model races alone (no provider
is set up, so that column says why it sits out), judged by the embedding host; Stop ends a race
cleanly; with neither model nothing starts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.ui.game.qt_model_race import DEFAULT_MAX_QUESTIONS, QtModelRacePanel
from hybridmcp_app.ui.game.qt_turtle_soup_view import QtTurtleSoupView
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.waiting import PATIENCE_MS, PATIENCE_S, wait_until

pytestmark = pytest.mark.integration
UMBRELLA = "the-dry-umbrella"
RACE_PATIENCE_S = 2 * PATIENCE_S  # a safety net for a whole race: many turns of the model


@pytest.fixture
def window(app_paths: AppPaths, make_window: Callable[..., MainWindow]) -> MainWindow:
    SettingsStore(app_paths).save(Settings.model_validate({
        "llm": {"local": {"inference": {"n_ctx": 2048}}},
        "game": {"host": "embedding", "difficulty": "easy"},
    }))  # fmt: skip
    window = make_window()
    window.tabs.setCurrentWidget(window.turtle_soup_view)
    return window


@pytest.fixture
def view(window: MainWindow) -> QtTurtleSoupView:
    return window.turtle_soup_view


def settle(window: MainWindow, loop: qasync.QEventLoop, timeout_s: float = RACE_PATIENCE_S) -> None:
    """Run the loop until the tab's background work (the race, the host) is over."""
    tasks = window.context.tasks
    loop.run_until_complete(wait_until(lambda: not tasks.running, timeout_s=timeout_s))


def during_the_race(
    window: MainWindow, loop: qasync.QEventLoop, panel: QtModelRacePanel, then: Callable[[], None]
) -> None:
    """Once the local model has made a move, ``then`` (checks, Stop); then until the race ends.

    One ``run_until_complete`` for the whole race: qasync's ends by processing Qt events once
    more with no running loop, and a race step run there fails (no running loop for the model's
    queue); so the loop is not left while the race runs."""
    local, tasks = panel.columns["local"], window.context.tasks

    async def watch() -> None:
        await wait_until(lambda: bool(local.rows))
        then()
        await wait_until(lambda: not tasks.running, timeout_s=RACE_PATIENCE_S)

    loop.run_until_complete(watch())


def load_model(window: MainWindow, loop: qasync.QEventLoop) -> None:
    loop.run_until_complete(window.context.local_model.load(window.context.settings.llm.local))


def test_the_local_model_plays_alone_and_the_provider_column_says_why_it_sits_out(
    window: MainWindow, view: QtTurtleSoupView, qt_loop: qasync.QEventLoop
) -> None:
    load_model(window, qt_loop)
    view.start(puzzle_id=UMBRELLA)
    settle(window, qt_loop)
    panel = view.show_race()
    assert view.stack.currentWidget() is panel and panel.isVisible()
    assert panel.puzzle.currentData() == f"puzzle:{UMBRELLA}"
    assert panel.puzzle.currentText() == "This game's puzzle: The Dry Umbrella"
    assert panel.max_questions.value() == DEFAULT_MAX_QUESTIONS
    panel.max_questions.setValue(2)

    panel.start_button.click()
    assert panel.racing and not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    local, provider = panel.columns["local"], panel.columns["provider"]
    seen: list[str] = []

    def mid_race() -> None:
        assert "SmolLM2" in local.model.text()  # the default: the chat model
        assert provider.status.text() == "Sits out this race."
        assert "no provider is set up" in provider.empty.text()
        assert panel.story.text().startswith("<b>The Dry Umbrella</b> · judged by the Embedding")
        seen.append(local.status.text())

    during_the_race(window, qt_loop, panel, mid_race)

    assert seen and seen[0].startswith("Thinking…")

    assert not panel.racing and panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert window.context.tasks.running == []
    assert panel.errors.text() == ""
    (transcript,) = panel.transcripts
    assert transcript.player == "local" and transcript.final.state != "playing"
    assert [row.kind for row in local.rows] == [move.kind for move in transcript.moves]
    assert sum(row.kind == "question" for row in local.rows) <= 2
    assert all(row.chip.text() for row in local.rows)
    assert not local.busy.isVisible()
    assert local.status.text().startswith(("Solved in", "Not solved", "Stopped by an error"))
    assert panel.result.isVisible()
    assert panel.result.text().startswith("Local model played alone and ")
    assert not provider.rows
    saved = window.context.paths.data_dir / "game-transcripts"
    files = list(saved.glob(f"*-local-{UMBRELLA}.json"))
    assert len(files) == 1 and transcript.saved_to == str(files[0])
    assert panel.saved.isVisible() and files[0].name in panel.saved.text()
    assert str(saved) in panel.saved.text()
    rules = qt_loop.run_until_complete(window.context.game_service().rules())
    assert qt_loop.run_until_complete(rules.totals()).played == 0  # the models' are not yours


def test_stop_during_a_race_abandons_it_cleanly(
    window: MainWindow, view: QtTurtleSoupView, qt_loop: qasync.QEventLoop
) -> None:
    load_model(window, qt_loop)
    panel = view.show_race()
    assert panel.puzzle.currentData() == "random:easy"  # no game: the chosen difficulty
    panel.max_questions.setValue(3)
    task = panel.start()
    assert task is not None
    local = panel.columns["local"]
    during_the_race(window, qt_loop, panel, panel.stop_button.click)

    assert task.cancelled()
    assert window.context.tasks.running == []
    assert not panel.racing and panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert local.status.text() == "Stopped: the game was abandoned."
    assert not local.busy.isVisible()
    assert panel.result.text() == "Race stopped: the games were abandoned and not saved."
    assert panel.errors.text() == ""
    assert not list((window.context.paths.data_dir / "game-transcripts").glob("*.json"))


def test_with_neither_model_the_race_does_not_start_and_says_why(
    window: MainWindow, view: QtTurtleSoupView, qt_loop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    panel = view.race_page
    assert isinstance(panel, QtModelRacePanel) and view.stack.currentWidget() is panel
    panel.start_button.click()
    settle(window, qt_loop)

    assert panel.errors.isVisible()
    assert panel.errors.text().startswith("Neither model can play")
    local, provider = panel.columns["local"], panel.columns["provider"]
    assert "The local model is not loaded" in local.empty.text()
    assert "no provider is set up" in provider.empty.text()
    assert local.status.text() == provider.status.text() == "Sits out this race."
    assert not panel.result.isVisible() and not panel.saved.isVisible()
    assert panel.start_button.isEnabled()
    assert not (window.context.paths.data_dir / "game-transcripts").exists()
    panel.back.click()
    assert view.stack.currentWidget() is view.welcome
