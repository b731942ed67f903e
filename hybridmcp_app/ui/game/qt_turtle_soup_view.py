"""The Turtle Soup tab: a puzzle's surface, yes-or-no questions judged by a host, hints, guesses,
the answer at the end, and the stats of every finished game.

Wraps the Qt-free ``GameService`` (made when the tab is first shown or a game first started).
Every call into the game runs as a background task, so the window never waits on a host; what
the game refuses (a ``GameError``) is shown under the question box or the top bar, and what the
player typed stays where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.game.qt_model_race import QtModelRacePanel
from hybridmcp_app.ui.game.qt_puzzle_editor_dialog import DIFFICULTIES, QtPuzzleEditorDialog
from hybridmcp_app.ui.game.qt_turtle_soup_page import QtSoupGamePage, error_line, say
from hybridmcp_app.ui.game.qt_turtle_soup_parts import QtGameStatsPage, QtSoupWelcome, dim
from hybridmcp_app.ui.library.qt_library_progress import plural

if TYPE_CHECKING:  # the game brings numpy and the hosts: imported when the tab first needs it
    from hybridmcp_app.game.game_models import GameView
    from hybridmcp_app.game.game_rules import GameRules
    from hybridmcp_app.game.game_service import GameService

log = logging.getLogger("hybridmcp.ui.game")
HOSTS = (
    ("local", "Local model", "Your local model judges every question (offline)"),
    ("provider", "Provider", "Your provider's model judges every question"),
    ("hybrid", "Hybrid", "The local model judges; the provider when the local one is unsure"),
    ("embedding", "Embedding (offline)",
     "No language model: answers by how close a question is to the hidden story"),
)  # fmt: skip
HOST_LABELS = {kind: label for kind, label, _ in HOSTS}


class QtTurtleSoupView(QWidget):
    """Top bar (difficulty, host, New game, Let the models play, My puzzle…, Stats) over a
    welcome page, the game page (card, progress, questions, hints, guesses), the race page
    (the local model and the provider playing) or the stats page."""

    def __init__(self, context: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self.game: GameView | None = None
        self.task: asyncio.Task[None] | None = None  # the latest action started (for tests)
        self.editor: QtPuzzleEditorDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._busy = False
        self._serial = 0  # which game is on show: answers for an earlier one are dropped
        self._host_kind: str = context.settings.game.host
        self._build_bar()
        self.page = QtSoupGamePage(self)
        icon = QIcon(str(resources_dir() / "icons" / "turtle.svg"))
        self.welcome = QtSoupWelcome(icon, self)
        self.stats_page = QtGameStatsPage(self)
        self.race_page = QtModelRacePanel(context, HOST_LABELS, self)
        self.stack = QStackedWidget(self)
        for page in (self.welcome, self.page, self.stats_page, self.race_page):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.addLayout(self.bar)
        layout.addWidget(self.bar_error)
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)

        self.welcome.new_button.clicked.connect(self.new_game)
        self.page.card.play_again.clicked.connect(self.new_game)
        self.page.question.returnPressed.connect(self.ask)
        self.page.ask_button.clicked.connect(self.ask)
        self.page.hint_button.clicked.connect(self.hint)
        self.page.guess_button.clicked.connect(self.open_guess)
        self.page.submit_guess.clicked.connect(self.guess)
        self.page.reveal_button.clicked.connect(self.reveal)
        self.page.give_up_button.clicked.connect(self.give_up)
        QShortcut(QKeySequence("Ctrl+Return"), self.page.guess_edit, self.guess,
                  context=Qt.ShortcutContext.WidgetShortcut).setWhatsThis(
            "Submit the guess (in the guess box)")  # fmt: skip
        self.stats_page.back.clicked.connect(lambda: self.show_stats(False))
        self.race_page.back.clicked.connect(lambda: self.show_stats(False))
        for keys, slot, what in (("Ctrl+N", self.new_game, "New game"),
                                 ("Ctrl+H", self.hint, "Take a hint"),
                                 ("Ctrl+G", self.open_guess, "Guess the story"),
                                 ("Ctrl+P", self.show_race, "Let the models play")):  # fmt: skip
            QShortcut(QKeySequence(keys), self, slot).setWhatsThis(what)
        self._update_controls()

    # ------------------------------------------------------------------ building
    def _build_bar(self) -> None:
        self.difficulty = QComboBox(self)
        for name, label in DIFFICULTIES:
            self.difficulty.addItem(label, name)
        chosen = self._context.settings.game.difficulty
        self.difficulty.setCurrentIndex(max(0, self.difficulty.findData(chosen)))
        self.difficulty.setToolTip("How hard the next puzzle is: easy 30 questions, medium 25, "
                                   "hard 20")  # fmt: skip
        self.host = QComboBox(self)
        for row, (kind, label, tip) in enumerate(HOSTS):
            self.host.addItem(label, kind)
            self.host.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        self.host.setCurrentIndex(max(0, self.host.findData(self._host_kind)))
        self.host.setToolTip("Who judges your questions and guesses")
        self.new_button = QPushButton("New game", self)
        self.new_button.setToolTip("Start a puzzle of the chosen difficulty (Ctrl+N)")
        self.race_button = QPushButton("Let the models play", self)
        self.race_button.setToolTip("Watch the local model and your provider's model race on "
                                    "a puzzle (Ctrl+P)")  # fmt: skip
        self.my_puzzle_button = QPushButton("My puzzle…", self)
        self.my_puzzle_button.setToolTip("Write a puzzle of your own, or import one, and play it")
        self.stats_button = QPushButton("Stats", self)
        self.stats_button.setCheckable(True)
        self.stats_button.setToolTip("Games played, solved, best score and streak")
        self.bar = QHBoxLayout()
        for text, combo in (("Difficulty:", self.difficulty), ("Host:", self.host)):
            self.bar.addWidget(QLabel(text, self))
            self.bar.addWidget(combo)
            self.bar.addSpacing(8)
        self.bar.addStretch(1)
        for button in (self.new_button, self.race_button, self.my_puzzle_button,
                       self.stats_button):  # fmt: skip
            self.bar.addWidget(button)
        self.bar_error = error_line(self, "Why the last action was not taken")
        self.notice = dim(QLabel(self))
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.difficulty.currentIndexChanged.connect(lambda _: self._save_game_setting(
            difficulty=self.difficulty.currentData()))  # fmt: skip
        self.host.currentIndexChanged.connect(lambda _: self.set_host(self.host.currentData()))
        self.new_button.clicked.connect(self.new_game)
        self.race_button.clicked.connect(self.show_race)
        self.my_puzzle_button.clicked.connect(self.open_puzzle_editor)
        self.stats_button.clicked.connect(self.show_stats)

    # ------------------------------------------------------------------ the service
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._service()  # made (its modules imported) now; it opens the bank at the first game

    def _service(self) -> GameService:
        return self._context.game_service()

    async def _rules(self) -> GameRules:
        return await self._service().rules()

    def _spawn(
        self, action: Awaitable[Any], name: str, errors: QLabel, serial: int | None = None
    ) -> asyncio.Task[None]:
        """Run ``action`` in the background; a ``GameError`` (or any ``HybridMCPError``) goes
        to ``errors``, unless another game was started since (``serial``)."""

        async def guarded() -> None:
            try:
                await action
            except HybridMCPError as error:
                message = str(error)
            except Exception as error:  # a bug: logged, and said in words rather than nothing
                log.exception("turtle soup: %s failed", name)
                message = f"Something went wrong: {error}"
            else:
                return
            if shiboken6.isValid(self) and serial in (None, self._serial):
                say(errors, message)

        self.task = self._context.tasks.spawn(guarded(), name=name)
        return self.task

    # ------------------------------------------------------------------ starting
    def new_game(self) -> asyncio.Task[None]:
        """A random puzzle of the chosen difficulty (Ctrl+N)."""
        return self.start(difficulty=self.difficulty.currentData())

    def start(
        self, difficulty: str | None = None, puzzle_id: str | None = None
    ) -> asyncio.Task[None]:
        """A game of ``puzzle_id``, or a random puzzle of ``difficulty``."""
        say(self.bar_error, "")
        say(self.notice, "")
        return self._spawn(self._begin(difficulty=difficulty, puzzle_id=puzzle_id),
                           "soup-new-game", self.bar_error)  # fmt: skip

    async def _begin(self, **how: Any) -> None:
        rules = await self._rules()
        game = await rules.new_game(**how)
        if not shiboken6.isValid(self):
            return
        self._serial += 1
        self.game, self._busy = game, False
        self.page.clear()
        self._show(game)
        self.stats_button.setChecked(False)
        self.stack.setCurrentWidget(self.page)
        self.page.question.setFocus()
        try:  # say now, not at the first question, that the chosen host is missing something
            async with self._service().hosting(rules.host.name):
                pass
        except HybridMCPError as error:
            label = HOST_LABELS.get(rules.host.name, rules.host.name)
            say(self.bar_error, f"{label} host: {error}")

    def open_puzzle_editor(self) -> QtPuzzleEditorDialog:
        """The dialog to write (or import) a puzzle; Play starts a game with it."""
        dialog = QtPuzzleEditorDialog(self._context.tasks, self._play_custom, self._import,
                                      self.difficulty.currentData(), self)  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor = dialog
        dialog.open()
        return dialog

    async def _play_custom(self, data: dict[str, Any]) -> None:
        await self._begin(custom=data)

    async def _import(self, path: Path) -> None:
        rules = await self._rules()
        puzzles = await asyncio.to_thread(rules.bank.import_file, path)
        await self._begin(puzzle_id=puzzles[0].id)
        if shiboken6.isValid(self):
            others = " (the others come up in new games)" if len(puzzles) > 1 else ""
            say(self.notice, f"Imported {plural(len(puzzles), 'puzzle')}{others}.")

    # ------------------------------------------------------------------ moves
    def _move(
        self, name: str, action: Callable[[GameRules, str], Awaitable[None]]
    ) -> asyncio.Task[None] | None:
        game = self.game
        if game is None or self._busy or game.state != "playing":
            return None
        serial, refocus = self._serial, self.page.question.hasFocus()
        say(self.page.error, "")
        self._set_busy(True)

        async def run() -> None:
            try:
                await action(await self._rules(), game.game_id)
            finally:
                if shiboken6.isValid(self) and serial == self._serial:
                    self._set_busy(False)
                    if refocus and self.page.question.isEnabled():
                        self.page.question.setFocus()

        return self._spawn(run(), name, self.page.error, serial)

    def ask(self) -> asyncio.Task[None] | None:
        """Ask what the question box holds (Enter); it is emptied once answered."""
        text = self.page.question.text()

        async def asked(rules: GameRules, game_id: str) -> None:
            await rules.ask(game_id, text)
            if self._current(game_id):
                self.page.question.clear()
                self._show(rules.view(game_id))

        return self._move("soup-ask", asked)

    def hint(self) -> asyncio.Task[None] | None:
        """The next hint (Ctrl+H)."""

        async def hinted(rules: GameRules, game_id: str) -> None:
            await rules.hint(game_id)
            if self._current(game_id):
                self._show(rules.view(game_id))

        return self._move("soup-hint", hinted)

    def open_guess(self) -> None:
        """Show the guess box (Ctrl+G)."""
        if self.game is not None and self.game.state == "playing":
            self.page.guess_box.show()
            self.page.guess_edit.setFocus()

    def guess(self) -> asyncio.Task[None] | None:
        """Submit the guess box's explanation; the verdict is shown beside the chip."""
        text = self.page.guess_edit.toPlainText()

        async def guessed(rules: GameRules, game_id: str) -> None:
            outcome = await rules.guess(game_id, text)
            if self._current(game_id):
                self.page.show_verdict(outcome)
                self._show(rules.view(game_id))

        return self._move("soup-guess", guessed)

    def reveal(self) -> None:
        """Show the answer and end the game, once confirmed."""
        self._confirm("Reveal the answer?", "The game ends and counts as not solved.", "Reveal",
                      lambda: self._end("soup-reveal", reveal=True))  # fmt: skip

    def give_up(self) -> None:
        self._confirm("Give up this puzzle?", "The game ends and the answer is shown.",
                      "Give up", lambda: self._end("soup-give-up", reveal=False))  # fmt: skip

    def _end(self, name: str, *, reveal: bool) -> asyncio.Task[None] | None:
        async def ended(rules: GameRules, game_id: str) -> None:
            game = await (rules.reveal(game_id) if reveal else rules.abandon(game_id))
            if self._current(game_id):
                self._show(game)

        return self._move(name, ended)

    def _confirm(self, question: str, detail: str, yes: str, then: Callable[[], object]) -> None:
        if self.game is None or self.game.state != "playing" or self._busy:
            return
        box = QMessageBox(QMessageBox.Icon.Question, question, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)  # fmt: skip
        box.setInformativeText(detail)
        box.button(QMessageBox.StandardButton.Yes).setText(yes)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(
            lambda button: box.standardButton(button) == QMessageBox.StandardButton.Yes and then()
        )
        self.confirm_box = box
        box.open()

    def _current(self, game_id: str) -> bool:
        return shiboken6.isValid(self) and self.game is not None and self.game.game_id == game_id

    # ------------------------------------------------------------------ showing
    def _show(self, game: GameView) -> None:
        self.game = game
        self.page.show_game(game)
        self._update_controls()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_controls()

    def _update_controls(self) -> None:
        game = self.game
        playing = game is not None and game.state == "playing"
        self.page.set_moves(playing, game.hints_left if game else 0, self._busy)

    # ------------------------------------------------------------------ stats and settings
    def show_stats(self, shown: bool = True) -> asyncio.Task[None] | None:
        """The stats page (reloaded each time), or back to the game."""
        self.stats_button.setChecked(shown)
        if not shown:
            self.stack.setCurrentWidget(self.welcome if self.game is None else self.page)
            return None
        self.stack.setCurrentWidget(self.stats_page)

        async def load() -> None:
            totals = await (await self._rules()).totals()
            if shiboken6.isValid(self):
                self.stats_page.show_totals(totals)

        return self._spawn(load(), "soup-stats", self.bar_error)

    def show_race(self) -> QtModelRacePanel:
        """The race page (Ctrl+P), offering this game's puzzle or a random one."""
        self.race_page.offer(self.game, self.difficulty.currentData())
        self.stats_button.setChecked(False)
        self.stack.setCurrentWidget(self.race_page)
        return self.race_page

    def set_host(self, kind: str) -> asyncio.Task[None]:
        """Judge from now on with ``kind``; if it is not available, say why and keep the one
        in use."""
        kept = self._host_kind

        async def switch() -> None:
            try:
                await self._service().use_host(kind)
            except HybridMCPError as error:
                if shiboken6.isValid(self):
                    self._select_host(kept)
                wanted, still = HOST_LABELS.get(kind, kind), HOST_LABELS.get(kept, kept)
                reason = str(error).rstrip(".")
                raise HybridMCPError(f"{wanted} host: {reason}. Still using {still}.") from None
            if shiboken6.isValid(self):
                self._host_kind = kind
                self._select_host(kind)  # also when switched from code, not the combo
                say(self.bar_error, "")
                self._save_game_setting(host=kind)

        return self._spawn(switch(), "soup-host", self.bar_error)

    def _select_host(self, kind: str) -> None:
        self.host.blockSignals(True)
        self.host.setCurrentIndex(max(0, self.host.findData(kind)))
        self.host.blockSignals(False)

    def _save_game_setting(self, **change: str) -> None:
        settings = self._context.settings
        game = settings.game.model_copy(update=change)
        try:
            self._context.save_settings(settings.model_copy(update={"game": game}))
        except OSError as error:
            say(self.bar_error, f"The setting could not be saved: {error}")

    def apply_settings(self, settings: Settings) -> None:
        """Settings were saved elsewhere (the Settings dialog): follow its difficulty and host."""
        game = settings.game
        self.difficulty.blockSignals(True)
        self.difficulty.setCurrentIndex(self.difficulty.findData(game.difficulty))
        self.difficulty.blockSignals(False)
        if game.host != self._host_kind:
            self._select_host(game.host)
            if self._context.game is None:
                self._host_kind = game.host  # the service takes it from the settings
            else:
                self.set_host(game.host)
