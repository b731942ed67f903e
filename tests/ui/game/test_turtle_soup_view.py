"""The Turtle Soup tab in the real window, judged by the embedding host (offline, deterministic)
over the shipped puzzle "The Dry Umbrella" and the player's own puzzles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.settings import GameSettings
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.game.qt_turtle_soup_parts import KEY_MARK
from hybridmcp_app.ui.game.qt_turtle_soup_view import QtTurtleSoupView
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.waiting import PATIENCE_MS, wait_until

pytestmark = pytest.mark.integration
UMBRELLA = "the-dry-umbrella"
SURFACE_START = "A woman walks home through a heavy downpour"
BOTTOM_START = "The woman is completely bald"
Settle = Callable[[], None]


@pytest.fixture
def context(make_context: Callable[..., AppServices]) -> AppServices:
    context = make_context()
    game = GameSettings(host="embedding", difficulty="easy")
    context.save_settings(context.settings.model_copy(update={"game": game}))
    return context


@pytest.fixture
def view(context: AppServices, make_window: Callable[..., MainWindow]) -> QtTurtleSoupView:
    window = make_window(context)
    view = window.turtle_soup_view
    window.tabs.setCurrentWidget(view)
    assert context.game is not None  # made when the tab is first shown
    return view


@pytest.fixture
def settle(context: AppServices, qt_loop: qasync.QEventLoop) -> Settle:
    def settle() -> None:
        """Run the loop until the tab's background work (the host, the stats) is over."""
        qt_loop.run_until_complete(wait_until(lambda: not context.tasks.running))

    return settle


def start_umbrella(view: QtTurtleSoupView, settle: Settle) -> None:
    view.start(puzzle_id=UMBRELLA)
    settle()
    assert view.game is not None and view.game.puzzle_id == UMBRELLA


def ask(view: QtTurtleSoupView, qtbot: QtBot, settle: Settle, question: str) -> None:
    view.page.question.setText(question)
    qtbot.keyClick(view.page.question, Qt.Key.Key_Return)
    settle()


def test_before_the_first_game_the_tab_explains_the_game_and_offers_a_big_new_game_button(
    view: QtTurtleSoupView, settle: Settle
) -> None:
    settle()
    assert view.stack.currentWidget() is view.welcome
    assert view.welcome.new_button.isVisible() and view.welcome.new_button.toolTip()
    assert view.bar_error.text() == ""


def test_starting_a_game_shows_its_surface_on_the_card(
    view: QtTurtleSoupView, settle: Settle
) -> None:
    start_umbrella(view, settle)
    card = view.page.card
    assert view.stack.currentWidget() is view.page
    assert card.title.text() == "The Dry Umbrella"
    assert card.badge.text() == "Easy"
    assert card.surface.text().startswith(SURFACE_START)
    assert card.surface.wordWrap()
    assert not card.ending.isVisible()
    assert view.page.progress.text() == "Key facts uncovered: 0 / 3"
    assert view.page.questions_left.text() == "Questions left: 30"
    assert view.page.question.isEnabled()


def test_asking_a_question_adds_a_turn_with_an_answer_chip_and_spends_a_question(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle
) -> None:
    start_umbrella(view, settle)
    view.page.question.setText("Does she have no hair at all?")
    qtbot.keyClick(view.page.question, Qt.Key.Key_Return)
    assert not view.page.question.isEnabled() and view.page.busy.isVisible()  # being judged
    settle()
    ask(view, qtbot, settle, "Is the stock market open on Sundays?")
    first, second = view.page.rows
    assert first.question.text() == "Does she have no hair at all?"
    assert (first.chip.text(), second.chip.text()) == ("Yes", "Irrelevant")
    assert first.mark.isVisible() and first.mark.text() == KEY_MARK
    assert "She has no hair at all." in first.mark.toolTip()
    assert not second.mark.isVisible()
    assert view.page.questions_left.text() == "Questions left: 28"
    assert view.page.progress.value() >= 1
    assert view.page.question.text() == ""
    assert view.page.question.isEnabled() and not view.page.busy.isVisible()


def test_a_repeated_question_is_refused_inline_adds_no_turn_and_stays_in_the_box(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle
) -> None:
    start_umbrella(view, settle)
    ask(view, qtbot, settle, "Did her head get wet?")
    ask(view, qtbot, settle, "did her head  get wet")
    assert len(view.page.rows) == 1
    assert view.page.error.isVisible()
    assert view.page.error.text().startswith("You already asked that (question 1:")
    assert view.page.question.text() == "did her head  get wet"
    assert view.page.question.isEnabled()
    assert view.page.questions_left.text() == "Questions left: 29"


def test_a_hint_is_listed_and_costs_points(view: QtTurtleSoupView, settle: Settle) -> None:
    start_umbrella(view, settle)
    view.page.hint_button.click()
    settle()
    hints = view.page.hints_list
    assert hints.isVisible() and hints.count() == 1
    assert hints.item(0).text() == "1. Read the surface word by word: what exactly stayed dry?"
    assert view.page.hint_button.text() == "Hint (2 left)"
    assert view.page.score.text() == "Score: 85"


def test_a_guess_shows_the_verdict_and_what_is_left(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle
) -> None:
    start_umbrella(view, settle)
    view.page.guess_button.click()
    assert view.page.guess_box.isVisible()
    qtbot.keyClicks(view.page.guess_edit, "She was driving a convertible with the roof up.")
    view.page.submit_guess.click()
    settle()
    assert view.page.verdict_chip.text() == "Incorrect"
    assert view.page.verdict.text() == "Not it. 2 guesses left."
    assert view.page.guesses_left.text() == "Guesses left: 2"
    assert view.game is not None and view.game.state == "playing"

    view.page.guess_edit.setPlainText("She has no hair at all because of medical treatment, "
                                      "and her head itself did get wet.")  # fmt: skip
    view.guess()
    settle()
    assert view.page.verdict_chip.text() == "Correct"
    assert view.page.verdict.text().startswith(f"Solved! {BOTTOM_START}")
    assert view.page.card.outcome.text().startswith("Solved · score")
    assert not view.page.question.isEnabled()


def test_revealing_asks_first_then_ends_the_game_with_the_bottom_and_every_key_fact(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle
) -> None:
    start_umbrella(view, settle)
    view.page.reveal_button.click()
    box = view.confirm_box
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Yes).click()
    settle()
    card = view.page.card
    assert card.ending.isVisible()
    assert card.outcome.text() == "Answer revealed"
    assert card.bottom.text().startswith(BOTTOM_START)
    assert "Her hair loss comes from medical treatment." in card.facts.text()
    assert card.play_again.isVisible()
    page = view.page
    moves = (page.question, page.ask_button, page.hint_button, page.guess_button,
             page.reveal_button, page.give_up_button)  # fmt: skip
    assert not any(move.isEnabled() for move in moves)
    assert view.page.progress.text() == "Key facts uncovered: 0 / 3"  # none found by asking


def test_cancelling_the_reveal_keeps_playing(view: QtTurtleSoupView, settle: Settle) -> None:
    start_umbrella(view, settle)
    view.page.give_up_button.click()
    box = view.confirm_box
    assert box is not None
    box.button(QMessageBox.StandardButton.Cancel).click()
    settle()
    assert view.game is not None and view.game.state == "playing"
    assert view.page.question.isEnabled()


def test_the_stats_page_counts_the_finished_game(view: QtTurtleSoupView, settle: Settle) -> None:
    start_umbrella(view, settle)
    view.reveal()
    assert view.confirm_box is not None
    view.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    settle()
    view.stats_button.click()
    settle()
    values = {key: label.text() for key, label in view.stats_page.values.items()}
    assert view.stack.currentWidget() is view.stats_page
    assert (values["played"], values["solved"], values["revealed"]) == ("1", "0", "1")
    assert (values["solve_rate"], values["average"], values["best_score"]) == ("0%", "—", "0")
    assert values["by_difficulty"] == "easy 0 · medium 0 · hard 0"
    view.stats_page.back.click()
    assert view.stack.currentWidget() is view.page and not view.stats_button.isChecked()


def test_a_puzzle_written_in_the_dialog_starts_a_game_with_its_surface(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle, context: AppServices
) -> None:
    dialog = view.open_puzzle_editor()
    qtbot.keyClicks(dialog.title, "The Silent Bell")
    dialog.surface.setPlainText("The bell in the tower never rang, yet the whole village "
                                "woke up on time every morning.")  # fmt: skip
    dialog.bottom.setPlainText("The bell had been replaced by a loud siren years ago; only "
                               "the old bell stayed up in the tower as decoration.")  # fmt: skip
    dialog.key_facts.setPlainText("A siren replaced the bell.\n\nThe bell is decoration.\n")
    dialog.hints.setPlainText("What else makes noise?")
    dialog.play_button.click()
    settle()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()  # closed (and deleted)
    assert view.page.card.title.text() == "The Silent Bell"
    assert view.page.card.surface.text().startswith("The bell in the tower never rang")
    assert view.page.progress.text() == "Key facts uncovered: 0 / 2"
    assert view.page.hint_button.text() == "Hint (1 left)"
    saved = context.paths.data_dir / "puzzles" / "the-silent-bell.json"
    assert saved.is_file()


def test_a_puzzle_without_a_bottom_is_refused_in_the_dialog_which_stays_open(
    view: QtTurtleSoupView, settle: Settle
) -> None:
    dialog = view.open_puzzle_editor()
    dialog.surface.setPlainText("A man orders soup, tastes it, and leaves in tears.")
    dialog.play_button.click()
    settle()
    assert dialog.isVisible()
    assert dialog.errors.text().startswith("Write the bottom: the bottom is what really happened")
    assert dialog.bottom.property("invalid") is True
    assert dialog.surface.toPlainText().startswith("A man orders soup")
    assert view.game is None and view.stack.currentWidget() is view.welcome


def test_switching_to_the_local_host_without_a_loaded_model_says_why_inline(
    view: QtTurtleSoupView, settle: Settle, context: AppServices
) -> None:
    start_umbrella(view, settle)
    view.host.setCurrentIndex(view.host.findData("local"))
    settle()
    assert view.bar_error.isVisible()
    assert "the local model is not loaded" in view.bar_error.text()
    assert view.host.currentData() == "embedding"
    assert context.settings.game.host == "embedding"


def test_a_host_switched_from_code_shows_in_the_combo_and_is_saved(
    view: QtTurtleSoupView, settle: Settle, context: AppServices
) -> None:
    view.host.blockSignals(True)
    view.host.setCurrentIndex(view.host.findData("local"))  # out of step, as after a restore
    view.host.blockSignals(False)
    view.set_host("embedding")
    settle()
    assert view.host.currentData() == "embedding"
    assert context.settings.game.host == "embedding"


def test_importing_a_json_file_plays_its_first_puzzle_and_a_broken_file_is_explained(
    view: QtTurtleSoupView, settle: Settle, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    dialog = view.open_puzzle_editor()
    dialog.import_path(broken)
    settle()
    assert dialog.isVisible()
    assert dialog.errors.text().startswith("broken.json cannot be read as JSON")

    good = tmp_path / "mine.json"
    good.write_text(json.dumps([
        {"title": "The Early Train", "surface": "He missed the train by an hour but arrived "
         "early.", "bottom": "He took the previous train, which was running an hour late."},
        {"surface": "She laughed at the funeral.", "bottom": "It was her own fake funeral."},
    ]), encoding="utf-8")  # fmt: skip
    dialog.import_path(good)
    settle()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    assert view.page.card.title.text() == "The Early Train"
    assert view.page.progress.text() == "Key facts uncovered: —"
    assert view.notice.text() == "Imported 2 puzzles (the others come up in new games)."


def test_the_keyboard_asks_for_a_hint_and_opens_the_guess_box(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle
) -> None:
    start_umbrella(view, settle)
    window = view.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)
    view.page.question.setFocus()
    qtbot.keyClick(view.page.question, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    settle()
    assert view.page.hints_list.count() == 1
    qtbot.keyClick(view.page.question, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert view.page.guess_box.isVisible() and view.page.guess_edit.hasFocus()


def test_the_tab_shortcuts_sleep_while_another_tab_shows(
    view: QtTurtleSoupView, qtbot: QtBot, settle: Settle
) -> None:
    window = view.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    settle()
    assert view.game is None
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    settle()
    assert view.game is not None and view.game.difficulty == "easy"
