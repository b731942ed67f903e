"""Which labelled questions benchmarks.game_host asks, and how its variable is read."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.game_sample import QUESTIONS_PER_PUZZLE, VARIABLE, questions_per_puzzle, sample
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.game.puzzle_bank import PuzzleBank
from hybridmcp_app.game.puzzle_models import ANSWERS, Puzzle


@pytest.fixture(scope="module")
def puzzles() -> list[Puzzle]:
    return PuzzleBank(resources_dir() / "puzzles", Path("/nonexistent-custom")).all()


def test_every_puzzle_gives_the_asked_number_of_distinct_questions(puzzles: list[Puzzle]) -> None:
    chosen = sample(puzzles, 2)
    per_puzzle = Counter(puzzle.id for puzzle, _ in chosen)
    assert per_puzzle == {puzzle.id: 2 for puzzle in puzzles}
    assert len({(puzzle.id, q.question) for puzzle, q in chosen}) == len(chosen)


def test_one_question_a_puzzle_still_asks_about_every_label_about_equally(
    puzzles: list[Puzzle],
) -> None:
    labels = Counter(question.answer for _, question in sample(puzzles, 1))
    assert set(labels) == set(ANSWERS)
    assert max(labels.values()) - min(labels.values()) <= len(puzzles) // 8


def test_no_number_or_one_above_a_puzzles_questions_asks_all_of_them(
    puzzles: list[Puzzle],
) -> None:
    every = [(p.id, q.question) for p in puzzles for q in p.questions]
    assert [(p.id, q.question) for p, q in sample(puzzles, None)] == every
    assert [(p.id, q.question) for p, q in sample(puzzles, 99)] == every


@pytest.mark.parametrize(
    ("value", "expected"), [("", QUESTIONS_PER_PUZZLE), ("all", None), (" ALL ", None), ("3", 3)]
)
def test_the_variable_reads_a_count_or_all(value: str, expected: int | None) -> None:
    assert questions_per_puzzle({VARIABLE: value}) == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_count_stops_with_a_one_line_error_naming_the_variable(value: str) -> None:
    with pytest.raises(SystemExit, match=f"^{VARIABLE} must be .*{value!r}$"):
        questions_per_puzzle({VARIABLE: value})
