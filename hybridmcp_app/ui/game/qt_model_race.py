"""The race page of the Turtle Soup tab: the local model and the provider play the same puzzle,
each in a game of its own, judged by the tab's host, while their moves fill two columns.

Wraps ``model_player.race`` (solver mode). The race runs as one background task; Stop cancels
it (the games are dropped unfinished). Each column says why its player sits out when its model
is not there (no local model loaded, no provider set up); with neither, nothing starts. The
models' games are played on rules of their own (the tab's bank and host, no stats), so they do
not count in the player's stats. Transcripts go to ``game-transcripts/`` in the data folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, cast

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.game.qt_puzzle_editor_dialog import DIFFICULTIES
from hybridmcp_app.ui.game.qt_turtle_soup_page import button, error_line, say
from hybridmcp_app.ui.game.qt_turtle_soup_parts import (
    ANSWER_CHIPS,
    BORDER,
    LINE,
    VERDICT_CHIPS,
    chip,
    dim,
    wrapping_label,
)
from hybridmcp_app.ui.library.qt_library_progress import plural

if TYPE_CHECKING:  # the game package is imported when a race first starts
    from hybridmcp_app.game.game_models import GameView
    from hybridmcp_app.game.model_player import Move, Transcript
    from hybridmcp_app.game.puzzle_models import Difficulty

log = logging.getLogger("hybridmcp.ui.game")
DEFAULT_MAX_QUESTIONS = 8
TRANSCRIPTS_FOLDER = "game-transcripts"
PLAYERS = (("local", "Local model"), ("provider", "Provider"))
MOVE_CHIPS: dict[str, tuple[str, str, str]] = {
    "refused": ("Refused", "#5f636b", "#ffffff"),
    "error": ("Error", "#c42b1c", "#ffffff"),
}


def verdict_of(reply: str) -> str:
    """The verdict a guess's message tells (``GameRules.guess`` starts it with it)."""
    if reply.startswith("Solved"):
        return "correct"
    return "close" if reply.startswith("Close") else "incorrect"


def questions_asked(transcript: Transcript) -> int:
    return sum(move.kind == "question" for move in transcript.moves)


def summary(transcript: Transcript) -> str:
    """How one player's game ended, for its status line."""
    final, asked = transcript.final, plural(questions_asked(transcript), "question")
    took = f" · {transcript.seconds:.0f} s"
    if final.state == "solved":
        return f"Solved in {asked} · score {final.score}{took}"
    if final.state == "revealed":
        return f"Not solved: the answer was revealed after {asked} · score 0{took}"
    last = transcript.moves[-1] if transcript.moves else None
    if last is not None and last.kind == "error":
        return f"Stopped by an error after {asked}: {last.text}"
    return f"Stopped after {asked}"


def race_result(transcripts: list[Transcript], titles: dict[str, str]) -> str:
    """Who won: of those who solved it, fewer questions, then the higher score."""
    if not transcripts:
        return "Nobody played."
    solved = sorted((t for t in transcripts if t.final.state == "solved"),
                    key=lambda t: (questions_asked(t), -t.final.score))  # fmt: skip
    if len(transcripts) == 1:
        name = titles[transcripts[0].player]
        if not solved:
            return f"{name} played alone and did not solve it."
        asked = plural(questions_asked(solved[0]), "question")
        return f"{name} played alone and solved it in {asked} (score {solved[0].final.score})."
    if not solved:
        return "Neither model solved it: a draw."
    best = solved[0]
    asked = plural(questions_asked(best), "question")
    if (
        len(solved) > 1
        and questions_asked(solved[1]) == questions_asked(best)
        and (solved[1].final.score == best.final.score)
    ):
        return f"A draw: both solved it in {asked} (score {best.final.score})."
    how = "solved it with fewer questions" if len(solved) > 1 else "the only one to solve it"
    return f"{titles[best.player]} wins: {how}, {asked} (score {best.final.score})."


class QtMoveRow(QFrame):
    """One move: a question with the host's answer chip, a guess with the verdict chip and the
    host's message, or a refused / failed move in grey / red."""

    def __init__(self, number: int, move: Move, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("race-move")
        self.setStyleSheet(f"QFrame#race-move {{ border: none; border-bottom: 1px solid {LINE}; }}")
        self.kind = move.kind
        marker = dim(QLabel(f"{number}." if move.kind == "question" else "", self))
        marker.setMinimumWidth(24)
        marker.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.text = wrapping_label(self)
        self.text.setText(f"Guess: {move.text}" if move.kind == "guess" else move.text)
        self.detail = dim(wrapping_label(self))
        if move.kind == "question":
            style = ANSWER_CHIPS.get(move.reply.lower(), ANSWER_CHIPS["irrelevant"])
            tip = "The host's answer"
        elif move.kind == "guess":
            style, tip = VERDICT_CHIPS[verdict_of(move.reply)], "The host's verdict"
            self.detail.setText(move.reply)
        else:
            style = MOVE_CHIPS[move.kind]
            tip = "The game did not take this move" if move.kind == "refused" else (
                "The model failed")  # fmt: skip
            self.detail.setText(move.reply)
        if move.kind == "error":
            self.text.setProperty("role", "form-errors")
        self.detail.setVisible(bool(self.detail.text()))
        self.chip = chip(style, self, tip)
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.text)
        words.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 6, 4, 6)
        layout.addWidget(marker, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(words, 1)
        layout.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignTop)


class QtRaceColumn(QFrame):
    """One player: its name and model, a status line, and its moves as they come."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.rows: list[QtMoveRow] = []
        # halves of the page whatever the moves' and models' lengths (not their size hints)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(280)
        self.setObjectName("race-column")
        self.setStyleSheet(f"QFrame#race-column {{ border: 1px solid {BORDER}; "
                           "border-radius: 8px; }")  # fmt: skip
        heading = QLabel(title, self)
        heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.model = dim(QLabel(self))
        self.model.setToolTip("The model playing")
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setTextVisible(False)
        self.busy.setToolTip("The model is thinking, or the host judging")
        self.busy.hide()
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(self.model, 1)
        top.addWidget(self.busy)
        self.status = wrapping_label(self)
        self.status.setStyleSheet("font-weight: 600;")
        self.status.setToolTip("How this player is doing")
        self.empty = dim(QLabel("No moves yet.", self))
        self.empty.setWordWrap(True)
        self.moves = QWidget()
        self.moves_layout = QVBoxLayout(self.moves)
        self.moves_layout.setContentsMargins(0, 0, 0, 0)
        self.moves_layout.setSpacing(0)
        self.moves_layout.addWidget(self.empty)
        self.moves_layout.addStretch(1)
        self.area = QScrollArea(self)
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setWidget(self.moves)
        self.area.setToolTip(f"The moves of the {title.lower()}, as they happen")
        self._follow = True  # keep the latest move in view, unless scrolled up to read
        scroll = self.area.verticalScrollBar()
        scroll.valueChanged.connect(lambda value: self._set_follow(value >= scroll.maximum() - 4))
        scroll.rangeChanged.connect(self._keep_following)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.area, 1)
        self.reset()

    def reset(self) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows.clear()
        self.model.setText("")
        self.busy.hide()
        self.status.setText("Waiting for the start.")
        self.empty.setText("No moves yet.")
        self.empty.show()
        self._follow = True

    def begin(self, model: str) -> None:
        self.model.setText(model)
        self.busy.show()
        self.status.setText("Thinking…")

    def sit_out(self, reason: str) -> None:
        self.busy.hide()
        self.status.setText("Sits out this race.")
        self.empty.setText(reason)

    def add(self, move: Move) -> None:
        asked = sum(row.kind == "question" for row in self.rows)
        number = asked + 1 if move.kind == "question" else asked
        row = QtMoveRow(number, move)
        self.moves_layout.insertWidget(self.moves_layout.count() - 1, row)
        self.rows.append(row)
        self.empty.hide()
        asked += move.kind == "question"
        self.status.setText(f"Thinking… {plural(asked, 'question')} asked")

    def _set_follow(self, follow: bool) -> None:
        self._follow = follow

    def _keep_following(self, _bottom: int, top: int) -> None:
        if self._follow:
            self.area.verticalScrollBar().setValue(top)

    def finish(self, text: str) -> None:
        self.busy.hide()
        self.status.setText(text)

    @property
    def playing(self) -> bool:
        return self.busy.isVisibleTo(self)


class QtModelRacePanel(QWidget):
    """Puzzle and question limit, Start / Stop, then the two players' columns side by side and,
    once both have finished, who won and where the transcripts are (``race_finished``: the
    result line)."""

    race_finished = Signal(str)

    def __init__(
        self,
        context: AppServices,
        host_labels: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self._host_labels = dict(host_labels or {})
        self.task: asyncio.Task[None] | None = None
        self.transcripts: list[Transcript] = []
        heading = QLabel("Let the models play", self)
        heading.setStyleSheet("font-size: 15pt; font-weight: 600;")
        intro = dim(QLabel("Your local model and your provider's model each play the same "
                           "puzzle in a game of their own, judged by the host chosen above. "
                           "Their games do not count in your stats.", self))  # fmt: skip
        intro.setWordWrap(True)
        self.puzzle = QComboBox(self)
        self.puzzle.setToolTip("The puzzle both models play")
        self.max_questions = QSpinBox(self)
        self.max_questions.setRange(1, 30)
        self.max_questions.setValue(DEFAULT_MAX_QUESTIONS)
        self.max_questions.setToolTip("How many questions each model may ask before it must "
                                      "guess")  # fmt: skip
        self.start_button = button("Start", "Start the race", self)
        self.stop_button = button("Stop", "Stop the race; the games are abandoned", self)
        self.back = button("Back to the game", "Return to your puzzle", self)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Puzzle:", self))
        controls.addWidget(self.puzzle, 1)
        controls.addSpacing(8)
        controls.addWidget(QLabel("Questions each:", self))
        controls.addWidget(self.max_questions)
        controls.addSpacing(8)
        controls.addWidget(self.start_button)
        controls.addWidget(self.stop_button)
        controls.addStretch(1)
        controls.addWidget(self.back)
        self.errors = error_line(self, "Why the race did not start or stopped")
        self.story = wrapping_label(self)
        self.story.setTextFormat(Qt.TextFormat.RichText)
        self.story.setToolTip("The puzzle being played")
        self.story.hide()
        self.columns = {kind: QtRaceColumn(title, self) for kind, title in PLAYERS}
        board = QHBoxLayout()
        for column in self.columns.values():
            board.addWidget(column, 1)
        self.result = wrapping_label(self)
        self.result.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.result.setToolTip("Who won")
        self.result.hide()
        self.saved = QLabel(self)
        self.saved.setWordWrap(True)
        self.saved.setTextFormat(Qt.TextFormat.RichText)
        self.saved.setOpenExternalLinks(True)
        self.saved.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.saved.setToolTip("Each game's moves, kept as JSON in the data folder")
        self.saved.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addWidget(self.errors)
        layout.addWidget(self.story)
        layout.addLayout(board, 1)
        layout.addWidget(self.result)
        layout.addWidget(self.saved)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self._set_racing(False)

    # ------------------------------------------------------------------ choosing
    def offer(self, game: GameView | None, difficulty: str) -> None:
        """The puzzles to race on: the game on show, or a random one of each difficulty
        (``difficulty`` chosen unless there is a game)."""
        if self.racing:
            return
        self.puzzle.clear()
        if game is not None:
            self.puzzle.addItem(f"This game's puzzle: {game.title}", f"puzzle:{game.puzzle_id}")
        for name, label in DIFFICULTIES:
            self.puzzle.addItem(f"A random {label.lower()} puzzle", f"random:{name}")
        wanted = f"puzzle:{game.puzzle_id}" if game is not None else f"random:{difficulty}"
        self.puzzle.setCurrentIndex(max(0, self.puzzle.findData(wanted)))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.racing:
            self.start_button.setFocus()

    # ------------------------------------------------------------------ racing
    @property
    def racing(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> asyncio.Task[None] | None:
        """Both models (those there are) on the chosen puzzle."""
        if self.racing or self.puzzle.currentData() is None:
            return None
        choice, limit = str(self.puzzle.currentData()), self.max_questions.value()
        for column in self.columns.values():
            column.reset()
        for label in (self.errors, self.result, self.saved, self.story):
            say(label, "")
        self.transcripts = []
        task = self._context.tasks.spawn(self._guarded(choice, limit), name="soup-model-race")
        task.add_done_callback(lambda done: self._ended(done.cancelled()))
        self.task = task
        self._set_racing(True)
        return task

    def stop(self) -> None:
        """Cancel the race: the games are dropped unfinished, nothing is saved."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _guarded(self, choice: str, limit: int) -> None:
        stopped = False
        try:
            await self._race(choice, limit)
        except asyncio.CancelledError:
            stopped = True
            raise
        except HybridMCPError as error:
            self._say_error(str(error))
        except Exception as error:  # a bug: logged, and said in words rather than nothing
            log.exception("turtle soup: the model race failed")
            self._say_error(f"Something went wrong: {error}")
        finally:
            self._ended(stopped)

    def _say_error(self, message: str) -> None:
        if shiboken6.isValid(self):
            say(self.errors, message)

    def _ended(self, stopped: bool) -> None:
        """The race is over (again, harmlessly, from the task's done callback: a race stopped
        before it began never ran ``_guarded``)."""
        if not shiboken6.isValid(self):
            return
        for column in self.columns.values():
            if column.playing:
                column.finish("Stopped: the game was abandoned." if stopped else "Stopped.")
        if stopped:
            say(self.result, "Race stopped: the games were abandoned and not saved.")
        self._set_racing(False)

    async def _race(self, choice: str, limit: int) -> None:
        from hybridmcp_app.game.game_rules import GameError, GameRules
        from hybridmcp_app.game.model_player import ModelPlayer, race

        service = self._context.game_service()
        rules = await service.rules()
        how, value = choice.split(":", 1)
        puzzle = (
            rules.bank.get(value) if how == "puzzle" else rules.bank.pick(cast("Difficulty", value))
        )
        if not shiboken6.isValid(self):
            return
        judge = self._host_labels.get(rules.host.name, rules.host.name)
        host = f" · judged by the {judge} host"
        say(self.story, f"<b>{html.escape(puzzle.title)}</b>{html.escape(host)}<br>"
                        f"{html.escape(puzzle.surface)}")  # fmt: skip
        players: list[ModelPlayer] = []
        local = await self._context.loaded_local_model()
        if local is None:
            self.columns["local"].sit_out("The local model is not loaded: load one in the Chat "
                                          "tab to let it play.")  # fmt: skip
        else:
            players.append(ModelPlayer("local", local, max_questions=limit))
            self.columns["local"].begin(self._context.local_model.status.label)
        async with contextlib.AsyncExitStack() as provider:
            try:
                backend, model = await provider.enter_async_context(service.provider_backend())
            except HybridMCPError as error:
                self.columns["provider"].sit_out(f"The provider sits out: {error}.")
            else:
                players.append(ModelPlayer("provider", backend, model, max_questions=limit))
                self.columns["provider"].begin(model)
            if not players:
                raise GameError("Neither model can play: load a local model, or set up a "
                                "provider in Settings → Providers.")  # fmt: skip
            own = GameRules(rules.bank, rules.host)  # no stats: the models' games are not yours
            folder = self._context.paths.data_dir / TRANSCRIPTS_FOLDER
            transcripts = await race(own, puzzle.id, players, self._on_move, folder)
        if shiboken6.isValid(self):
            self._show_result(transcripts, folder)

    def _on_move(self, player: str, move: Move) -> None:
        if shiboken6.isValid(self):
            self.columns[player].add(move)

    def _show_result(self, transcripts: list[Transcript], folder: Path) -> None:
        self.transcripts = transcripts
        for transcript in transcripts:
            self.columns[transcript.player].finish(summary(transcript))
        titles = {kind: title for kind, title in PLAYERS}
        bottom = transcripts[0].final.bottom if transcripts else None
        result = race_result(transcripts, titles)
        say(self.result, result)
        self.race_finished.emit(result)
        saved = [t.saved_to for t in transcripts if t.saved_to]
        names = ", ".join(html.escape(Path(path).name) for path in saved)
        answer = f"<b>What happened:</b> {html.escape(bottom)}<br>" if bottom else ""
        link = f'<a href="{html.escape(folder.as_uri())}">{html.escape(str(folder))}</a>'
        say(self.saved, f"{answer}Transcripts saved in {link}: {names}")

    def _set_racing(self, racing: bool) -> None:
        self.start_button.setEnabled(not racing)
        self.stop_button.setEnabled(racing)
        self.puzzle.setEnabled(not racing)
        self.max_questions.setEnabled(not racing)
