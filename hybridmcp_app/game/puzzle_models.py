"""A turtle-soup puzzle: what the player is told (the surface), the hidden truth (the bottom),
the key facts a player must uncover, hints, and questions labelled with the host's right answer.

The bank's puzzles (``resources/puzzles/*.json``, one per file) are held to more than a player's
own: 3–6 key facts, at least two hints and at least five labelled questions (``check_bank``).
A player's custom puzzle needs only a surface and a bottom.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from hybridmcp_app.core.frozen_model import FrozenModel

Answer = Literal["yes", "no", "irrelevant", "partly"]
ANSWERS: tuple[Answer, ...] = ("yes", "no", "irrelevant", "partly")
Difficulty = Literal["easy", "medium", "hard"]
PUZZLE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class LabelledQuestion(FrozenModel):
    """A question a player might ask, with the answer a fair host gives."""

    question: str = Field(min_length=3, max_length=300)
    answer: Answer
    facts: tuple[int, ...] = Field(
        (), description="Indexes of the key facts a yes or partly answer to it uncovers."
    )


class Puzzle(FrozenModel):
    """One puzzle of the bank or of a player."""

    id: str = Field(pattern=PUZZLE_ID_PATTERN, max_length=64)
    title: str = Field(min_length=1, max_length=80)
    surface: str = Field(min_length=10, max_length=1500, description="What the player is told.")
    bottom: str = Field(min_length=10, max_length=4000, description="The hidden truth.")
    key_facts: tuple[str, ...] = Field((), max_length=6)
    difficulty: Difficulty = "medium"
    hints: tuple[str, ...] = Field((), max_length=6)
    questions: tuple[LabelledQuestion, ...] = ()
    author: str = Field("HybridMCP", max_length=80)
    custom: bool = Field(False, description="Written or imported by a player.")

    @model_validator(mode="after")
    def _facts_exist(self) -> Puzzle:
        for labelled in self.questions:
            for index in labelled.facts:
                if not 0 <= index < len(self.key_facts):
                    raise ValueError(
                        f"question {labelled.question!r} names key fact {index}, but the puzzle "
                        f"has {len(self.key_facts)}"
                    )
        return self


def check_bank(puzzle: Puzzle) -> list[str]:
    """What keeps ``puzzle`` out of the bank (empty when it may go in)."""
    problems = []
    if not 3 <= len(puzzle.key_facts) <= 6:
        problems.append(f"{puzzle.id}: {len(puzzle.key_facts)} key facts (3 to 6)")
    if len(puzzle.hints) < 2:
        problems.append(f"{puzzle.id}: {len(puzzle.hints)} hints (at least 2)")
    if len(puzzle.questions) < 5:
        problems.append(f"{puzzle.id}: {len(puzzle.questions)} labelled questions (at least 5)")
    uncovered = set(range(len(puzzle.key_facts))) - {
        index for labelled in puzzle.questions if labelled.answer in ("yes", "partly")
        for index in labelled.facts
    }  # fmt: skip
    if uncovered:
        problems.append(
            f"{puzzle.id}: no yes/partly question uncovers key facts {sorted(uncovered)}"
        )
    return problems
