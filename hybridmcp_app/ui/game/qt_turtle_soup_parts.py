"""Pieces of the Turtle Soup tab: answer chips, a turn row, the puzzle card, the stats page and
the welcome page shown before the first game.

Chips are filled (a strong colour behind white or near-black text), so they read the same on
the light and the dark palette; everything else takes its colours from the palette.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the game package is imported when the tab first needs it
    from hybridmcp_app.game.game_models import GameView, Turn
    from hybridmcp_app.game.game_stats import GameTotals

# answer: (label, background, text) — each pair above 4.5:1 contrast
ANSWER_CHIPS: dict[str, tuple[str, str, str]] = {
    "yes": ("Yes", "#1f7a3a", "#ffffff"),
    "no": ("No", "#c42b1c", "#ffffff"),
    "irrelevant": ("Irrelevant", "#5f636b", "#ffffff"),
    "partly": ("Partly", "#f0b429", "#261a00"),
}
VERDICT_CHIPS: dict[str, tuple[str, str, str]] = {
    "correct": ("Correct", "#1f7a3a", "#ffffff"),
    "close": ("Close", "#f0b429", "#261a00"),
    "incorrect": ("Incorrect", "#c42b1c", "#ffffff"),
}
DIFFICULTY_CHIPS: dict[str, tuple[str, str, str]] = {
    "easy": ("Easy", "#2d7a6a", "#ffffff"),
    "medium": ("Medium", "#2f5fb8", "#ffffff"),
    "hard": ("Hard", "#7b3aa6", "#ffffff"),
}
ENDINGS = {"solved": "Solved", "revealed": "Answer revealed", "abandoned": "You gave up"}
KEY_MARK = "★ key fact"
LINE, BORDER = "rgba(128, 128, 128, 0.35)", "rgba(128, 128, 128, 0.6)"  # grey on either palette


def paint_chip(label: QLabel, style: tuple[str, str, str], tooltip: str = "") -> None:
    """``label`` as a rounded, filled chip: ``style`` is (text, background, text colour)."""
    text, background, colour = style
    label.setText(text)
    label.setStyleSheet(
        f"QLabel {{ background: {background}; color: {colour}; border-radius: 6px; "
        f"padding: 2px 10px; font-weight: 600; }}"
    )
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    label.setToolTip(tooltip)


def chip(style: tuple[str, str, str], parent: QWidget, tooltip: str = "") -> QLabel:
    label = QLabel(parent)
    paint_chip(label, style, tooltip)
    return label


def wrapping_label(parent: QWidget, *, selectable: bool = True) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def dim(label: QLabel) -> QLabel:
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


class QtTurnRow(QFrame):
    """One question of the log: its number, the question, the answer chip, and a mark when it
    uncovered a key fact (the fact itself in the mark's tooltip)."""

    def __init__(self, turn: Turn, facts: dict[int, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("soup-turn")
        self.setStyleSheet(f"QFrame#soup-turn {{ border: none; border-bottom: 1px solid {LINE}; }}")
        self.answer = turn.answer
        number = dim(QLabel(f"{turn.number}.", self))
        number.setMinimumWidth(28)
        number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.question = wrapping_label(self)
        self.question.setText(turn.question)
        self.chip = chip(ANSWER_CHIPS[turn.answer], self, "The host's answer")
        self.mark = QLabel(KEY_MARK, self)
        self.mark.setStyleSheet("color: palette(link); font-weight: 600;")
        uncovered = [facts[i] for i in turn.new_facts if i in facts]
        self.mark.setToolTip("Uncovered: " + " ".join(uncovered) if uncovered else "")
        self.mark.setVisible(bool(turn.new_facts))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 6, 4, 6)
        layout.addWidget(number, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.question, 1)
        layout.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.chip, 0, Qt.AlignmentFlag.AlignTop)


class QtPuzzleCard(QFrame):
    """The puzzle: title, difficulty, the surface; once the game ends, how it ended, the bottom
    and every key fact, with a button for the next game."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("soup-card")
        self.setStyleSheet(
            f"QFrame#soup-card {{ background: palette(base); border: 1px solid {BORDER}; "
            "border-radius: 8px; }"
        )
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badge = chip(DIFFICULTY_CHIPS["medium"], self)
        self.surface = wrapping_label(self)
        self.surface.setStyleSheet("font-size: 12pt;")
        self.surface.setToolTip("The surface: what you are told. Ask questions to find out why.")
        self.ending = QWidget(self)
        self.outcome = QLabel(self.ending)
        self.outcome.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.bottom = wrapping_label(self.ending)
        self.bottom.setToolTip("The bottom: what really happened")
        self.facts = QLabel(self.ending)
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.play_again = QPushButton("New game", self.ending)
        self.play_again.setToolTip("Start another puzzle of the chosen difficulty (Ctrl+N)")
        ending = QVBoxLayout(self.ending)
        ending.setContentsMargins(0, 8, 0, 0)
        ending.addWidget(self.outcome)
        ending.addWidget(dim(QLabel("What happened", self.ending)))
        ending.addWidget(self.bottom)
        ending.addWidget(dim(QLabel("Key facts", self.ending)))
        ending.addWidget(self.facts)
        ending.addWidget(self.play_again, 0, Qt.AlignmentFlag.AlignLeft)
        self.ending.hide()
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.addLayout(heading)
        layout.addWidget(self.surface)
        layout.addWidget(self.ending)

    def show_game(self, game: GameView) -> None:
        self.title.setText(game.title)
        paint_chip(self.badge, DIFFICULTY_CHIPS[game.difficulty], "How hard the puzzle is")
        self.surface.setText(game.surface)
        ended = game.state != "playing"
        self.ending.setVisible(ended)
        if ended:
            score = f" · score {game.score}" if game.state == "solved" else ""
            self.outcome.setText(ENDINGS.get(game.state, game.state) + score)
            self.bottom.setText(game.bottom or "")
            self.facts.setText(bullets(game.key_facts) or "(this puzzle lists no key facts)")


def bullets(lines: tuple[str, ...] | list[str]) -> str:
    return "<br>".join(f"• {html.escape(line)}" for line in lines)


STAT_ROWS = (
    ("played", "Games played"),
    ("solved", "Solved"),
    ("revealed", "Answer revealed"),
    ("abandoned", "Given up"),
    ("solve_rate", "Solve rate"),
    ("average", "Average questions to solve"),
    ("best_score", "Best score"),
    ("total_score", "Total score"),
    ("streak", "Current streak"),
    ("by_difficulty", "Solved by difficulty"),
)


def describe_totals(totals: GameTotals) -> dict[str, str]:
    average = totals.average_questions_to_solve
    by = totals.by_difficulty
    return {
        "played": str(totals.played),
        "solved": str(totals.solved),
        "revealed": str(totals.revealed),
        "abandoned": str(totals.abandoned),
        "solve_rate": f"{totals.solve_rate:.0%}" if totals.played else "—",
        "average": f"{average:.1f}" if average is not None else "—",
        "best_score": str(totals.best_score),
        "total_score": str(totals.total_score),
        "streak": f"{totals.current_streak} solved in a row",
        "by_difficulty": " · ".join(
            f"{level} {by.get(level, 0)}" for level in ("easy", "medium", "hard")
        ),
    }


class QtGameStatsPage(QWidget):
    """Every finished game counted: played, solved, solve rate, best score, streak…"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        heading = QLabel("Your Turtle Soup stats", self)
        heading.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.values: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setHorizontalSpacing(24)
        for key, title in STAT_ROWS:
            value = QLabel("…", self)
            value.setObjectName(f"stat-{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(f"{title}:", value)
        self.back = QPushButton("Back to the game", self)
        self.back.setToolTip("Return to the puzzle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.back, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def show_totals(self, totals: GameTotals) -> None:
        for key, text in describe_totals(totals).items():
            self.values[key].setText(text)


class QtSoupWelcome(QWidget):
    """Before the first game: what turtle soup is, and a big New game button."""

    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QWidget(self)
        column.setFixedWidth(560)
        picture = QLabel(column)
        picture.setPixmap(icon.pixmap(88, 88))
        picture.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        title = QLabel("Lateral-thinking puzzles", column)
        title.setProperty("role", "empty-title")
        body = QLabel(
            "You are told a strange situation. Ask questions the host can answer with Yes, No, "
            "Irrelevant or Partly, uncover the key facts, then guess what really happened. "
            "Fewer questions and hints mean a higher score.",
            column,
        )
        body.setProperty("role", "empty-body")
        body.setWordWrap(True)
        for label in (title, body):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.new_button = QPushButton("New game", column)
        self.new_button.setToolTip("Start a puzzle of the chosen difficulty (Ctrl+N)")
        self.new_button.setMinimumSize(200, 48)
        self.new_button.setStyleSheet("font-size: 13pt; font-weight: 600;")
        inner = QVBoxLayout(column)
        inner.addWidget(picture)
        inner.addWidget(title)
        inner.addWidget(body)
        inner.addSpacing(12)
        inner.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(column, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
