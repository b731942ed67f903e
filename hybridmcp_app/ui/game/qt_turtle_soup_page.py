"""The Turtle Soup game page: the puzzle card, progress, counters, moves, hints, the guess box
and the verdict on the left; the question box and the log of turns on the right.

Display only: ``show_game`` draws a ``GameView``; the tab (``QtTurtleSoupView``) wires the
buttons to the game.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.ui.game.qt_turtle_soup_parts import (
    VERDICT_CHIPS,
    QtPuzzleCard,
    QtTurnRow,
    bullets,
    chip,
    dim,
    paint_chip,
    wrapping_label,
)

if TYPE_CHECKING:
    from hybridmcp_app.game.game_models import GameView, GuessOutcome

PLAYING_PROMPT = "Ask a yes-or-no question, then press Enter"


def button(text: str, tooltip: str, parent: QWidget) -> QPushButton:
    made = QPushButton(text, parent)
    made.setToolTip(tooltip)
    return made


def error_line(parent: QWidget, tooltip: str) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "form-errors")
    label.setWordWrap(True)
    label.setToolTip(tooltip)
    label.hide()
    return label


def say(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label``, or hide the label when there is none."""
    label.setText(text)
    label.setVisible(bool(text))


class QtSoupGamePage(QSplitter):
    """One game on show; ``rows`` are the turns drawn so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.rows: list[QtTurnRow] = []
        left, right = QWidget(self), QWidget(self)
        self._build_left(left)
        self._build_right(right)
        self.addWidget(left)
        self.addWidget(right)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)

    def _build_left(self, left: QWidget) -> None:
        self.card = QtPuzzleCard(left)
        self.progress = QProgressBar(left)
        self.progress.setToolTip("Key facts of the hidden story your questions have uncovered")
        self.uncovered = QLabel(left)
        self.uncovered.setWordWrap(True)
        self.uncovered.setToolTip("The key facts uncovered so far")
        self.questions_left, self.guesses_left, self.score = (QLabel(left) for _ in range(3))
        self.questions_left.setToolTip("Questions you may still ask; each costs 3 points")
        self.guesses_left.setToolTip("A wrong guess costs 10 points; after the last one the "
                                     "answer is revealed")  # fmt: skip
        self.score.setToolTip("What solving it now would score (each hint costs 15 points)")
        counters = QHBoxLayout()
        for label in (self.questions_left, self.guesses_left, self.score):
            counters.addWidget(label)
            counters.addSpacing(12)
        counters.addStretch(1)
        self.hint_button = button("Hint", "Show the next hint; costs 15 points (Ctrl+H)", left)
        self.guess_button = button("Guess…", "Explain what happened (Ctrl+G)", left)
        self.reveal_button = button("Reveal", "Show the answer; the game ends unsolved", left)
        self.give_up_button = button("Give up", "End this game without solving it", left)
        actions = QHBoxLayout()
        for widget in (self.hint_button, self.guess_button, self.reveal_button,
                       self.give_up_button):  # fmt: skip
            actions.addWidget(widget)
        actions.addStretch(1)
        self.hints_heading = dim(QLabel("Hints", left))
        self.hints_list = QListWidget(left)
        self.hints_list.setWordWrap(True)
        self.hints_list.setToolTip("The hints shown so far")
        self.guess_box = QFrame(left)
        self.guess_edit = QPlainTextEdit(self.guess_box)
        self.guess_edit.setPlaceholderText("What really happened? Explain the whole story.")
        self.guess_edit.setToolTip("Your explanation; Ctrl+Enter submits it")
        self.guess_edit.setTabChangesFocus(True)
        self.guess_edit.setMaximumHeight(80)
        self.submit_guess = button("Submit guess", "Have the host judge your explanation "
                                   "(Ctrl+Enter)", self.guess_box)  # fmt: skip
        self.cancel_guess = button("Cancel", "Put the guess away; what you wrote is kept",
                                   self.guess_box)  # fmt: skip
        guess_buttons = QHBoxLayout()
        guess_buttons.addWidget(self.submit_guess)
        guess_buttons.addWidget(self.cancel_guess)
        guess_buttons.addStretch(1)
        guess_layout = QVBoxLayout(self.guess_box)
        guess_layout.setContentsMargins(0, 0, 0, 0)
        guess_layout.addWidget(self.guess_edit)
        guess_layout.addLayout(guess_buttons)
        self.verdict_chip = chip(VERDICT_CHIPS["close"], left, "The host's verdict")
        self.verdict = wrapping_label(left)
        verdict_row = QHBoxLayout()
        verdict_row.addWidget(self.verdict_chip, 0, Qt.AlignmentFlag.AlignTop)
        verdict_row.addWidget(self.verdict, 1)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 8, 0)
        for part in (self.card, self.progress, self.uncovered):
            column.addWidget(part)
        column.addLayout(counters)
        column.addLayout(actions)
        column.addWidget(self.guess_box)
        column.addLayout(verdict_row)
        column.addWidget(self.hints_heading)
        column.addWidget(self.hints_list)
        column.addStretch(1)
        self.cancel_guess.clicked.connect(self.guess_box.hide)

    def _build_right(self, right: QWidget) -> None:
        self.question = QLineEdit(right)
        self.question.setPlaceholderText(PLAYING_PROMPT)
        self.question.setToolTip("Your question for the host (Enter asks)")
        self.ask_button = button("Ask", "Ask the host (Enter)", right)
        self.busy = QProgressBar(right)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setTextVisible(False)
        self.busy.setToolTip("The host is judging")
        self.busy.hide()
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.busy)
        ask_row.addWidget(self.ask_button)
        self.error = error_line(right, "Why the last move was not taken")
        self.no_turns = dim(QLabel("No questions yet: the host answers Yes, No, Irrelevant or "
                                   "Partly.", right))  # fmt: skip
        self.no_turns.setWordWrap(True)
        self.log_widget = log_widget = QWidget()
        self.log_layout = QVBoxLayout(log_widget)
        self.log_layout.setContentsMargins(0, 0, 0, 0)
        self.log_layout.setSpacing(0)
        self.log_layout.addWidget(self.no_turns)
        self.log_layout.addStretch(1)
        self.log_area = QScrollArea(right)
        self.log_area.setWidgetResizable(True)
        self.log_area.setWidget(log_widget)
        self.log_area.setToolTip("Your questions and the host's answers; ★ marks a question "
                                 "that uncovered a key fact")  # fmt: skip
        column = QVBoxLayout(right)
        column.setContentsMargins(8, 0, 0, 0)
        column.addLayout(ask_row)
        column.addWidget(self.error)
        column.addWidget(self.log_area, 1)

    # ------------------------------------------------------------------ drawing
    def clear(self) -> None:
        """Ready for a new game: no turns, hints, guess or messages."""
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows.clear()
        self.hints_list.clear()
        self.guess_edit.clear()
        self.guess_box.hide()
        say(self.verdict, "")
        self.verdict_chip.hide()
        say(self.error, "")

    def show_verdict(self, outcome: GuessOutcome) -> None:
        paint_chip(self.verdict_chip, VERDICT_CHIPS[outcome.verdict], "The host's verdict")
        self.verdict_chip.show()
        say(self.verdict, outcome.message)

    def show_game(self, game: GameView) -> None:
        self.card.show_game(game)
        ended = game.state != "playing"
        facts = dict(enumerate(game.key_facts) if ended
                     else zip(game.facts_uncovered, game.key_facts, strict=False))  # fmt: skip
        for turn in game.turns[len(self.rows) :]:
            row = QtTurnRow(turn, facts)
            self.log_layout.insertWidget(self.log_layout.count() - 1, row)
            self.rows.append(row)
        self.no_turns.setVisible(not self.rows)
        if self.rows:
            self.log_widget.adjustSize()
            scroll = self.log_area.verticalScrollBar()
            scroll.setValue(scroll.maximum())
        total, found = game.facts_total, len(game.facts_uncovered)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(found if total else 0)
        self.progress.setFormat(f"Key facts uncovered: {found} / {total}" if total
                                else "Key facts uncovered: —")  # fmt: skip
        self.uncovered.setText(bullets(game.key_facts))
        self.uncovered.setVisible(bool(game.key_facts) and not ended)
        self.questions_left.setText(f"Questions left: {game.questions_left}")
        self.guesses_left.setText(f"Guesses left: {game.guesses_left}")
        self.score.setText(f"Score: {game.score}")
        for number, text in enumerate(game.hints_shown[self.hints_list.count() :],
                                      self.hints_list.count() + 1):  # fmt: skip
            self.hints_list.addItem(f"{number}. {text}")
        self.hints_heading.setVisible(bool(game.hints_shown))
        self.hints_list.setVisible(bool(game.hints_shown))
        self._fit_hints()
        self.hint_button.setText(f"Hint ({game.hints_left} left)")
        self.question.setPlaceholderText(PLAYING_PROMPT if not ended
                                         else "This game is over: start a new one")  # fmt: skip
        if ended:
            self.guess_box.hide()

    def _fit_hints(self) -> None:
        """As tall as its hints (up to four lines' worth), not a fixed empty box."""
        rows = sum(self.hints_list.sizeHintForRow(i) for i in range(self.hints_list.count()))
        frame = 2 * self.hints_list.frameWidth() + 4
        self.hints_list.setFixedHeight(min(rows, 4 * max(1, self.hints_list.sizeHintForRow(0)))
                                       + frame)  # fmt: skip
        self.hints_list.scrollToBottom()

    def set_moves(self, playing: bool, hints_left: int, busy: bool) -> None:
        """Enable the moves while a game is playing and no move runs; show ``busy``."""
        self.busy.setVisible(busy)
        for widget in (self.question, self.ask_button, self.guess_button, self.submit_guess,
                       self.reveal_button, self.give_up_button):  # fmt: skip
            widget.setEnabled(playing and not busy)
        self.hint_button.setEnabled(playing and not busy and hints_left > 0)
