"""Which labelled questions ``benchmarks.game_host`` asks: a few of every puzzle, or all.

Every host gets the same questions. Each puzzle gives ``per_puzzle`` questions, starting one
position further on than the puzzle before, so that across the bank every position (and with
it every kind of label: the bank lists yes, no, irrelevant and partly questions in that order)
is asked about equally often.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from hybridmcp_app.game.puzzle_models import LabelledQuestion, Puzzle

QUESTIONS_PER_PUZZLE = 1
VARIABLE = "HYBRIDMCP_GAME_HOST_QUESTIONS"
Sample = list[tuple[Puzzle, LabelledQuestion]]


def questions_per_puzzle(environ: dict[str, str] | None = None) -> int | None:
    """How many questions of each puzzle to ask (None: all), from ``HYBRIDMCP_GAME_HOST_QUESTIONS``
    (a whole number of at least 1, or ``all``); QUESTIONS_PER_PUZZLE when unset."""
    value = (os.environ if environ is None else environ).get(VARIABLE, "").strip().lower()
    if not value:
        return QUESTIONS_PER_PUZZLE
    if value == "all":
        return None
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{VARIABLE} must be a whole number of at least 1 or 'all', not {value!r}")
    return int(value)


def sample(puzzles: Sequence[Puzzle], per_puzzle: int | None) -> Sample:
    """``per_puzzle`` questions of each puzzle (all of them when None or when it has fewer)."""
    chosen: Sample = []
    for number, puzzle in enumerate(puzzles):
        questions = puzzle.questions
        if per_puzzle is None or per_puzzle >= len(questions):
            chosen += [(puzzle, question) for question in questions]
            continue
        start = number * per_puzzle
        chosen += [(puzzle, questions[(start + i) % len(questions)]) for i in range(per_puzzle)]
    return chosen
