"""What a game is made of: the host's judgements, the turns, and the view of one game."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Protocol

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.game.puzzle_models import Answer, Difficulty, Puzzle

Verdict = Literal["correct", "close", "incorrect"]
MAX_INPUT_CHARS = 300
MAX_GUESS_CHARS = 1200
QUESTION_BUDGET: dict[Difficulty, int] = {"easy": 30, "medium": 25, "hard": 20}
GUESSES_ALLOWED = 3


class GameState(StrEnum):
    PLAYING = "playing"
    SOLVED = "solved"
    REVEALED = "revealed"
    ABANDONED = "abandoned"


class Judgement(FrozenModel):
    """A host's answer to one question."""

    answer: Answer
    facts: tuple[int, ...] = Field((), description="Key facts a yes/partly answer touched.")
    confidence: float | None = Field(None, ge=0, le=1)
    host: str = ""
    escalated: bool = Field(False, description="The hybrid host asked the provider.")


class GuessJudgement(FrozenModel):
    """A host's verdict on a final guess."""

    verdict: Verdict
    facts: tuple[int, ...] = Field((), description="Key facts the guess got right.")
    note: str = Field("", description="For a close guess: what is missing, without the answer.")
    confidence: float | None = Field(None, ge=0, le=1)
    host: str = ""


class PuzzleHost(Protocol):
    """``rules_solver``: judges questions and guesses against a puzzle's bottom. It never puts
    the bottom in what it says."""

    name: str

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement: ...

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement: ...


class Turn(FrozenModel):
    """One question asked and answered."""

    number: int
    question: str
    answer: Answer
    facts: tuple[int, ...] = ()
    new_facts: tuple[int, ...] = Field((), description="Key facts this turn uncovered first.")


class GuessOutcome(FrozenModel):
    verdict: Verdict
    message: str
    facts: tuple[int, ...] = ()


class GameView(FrozenModel):
    """What a player (or an MCP client) may see of a game: never the bottom while it runs."""

    game_id: str
    puzzle_id: str
    title: str
    surface: str
    difficulty: Difficulty
    state: GameState
    turns: tuple[Turn, ...]
    questions_left: int
    guesses_left: int
    hints_shown: tuple[str, ...]
    hints_left: int
    facts_total: int
    facts_uncovered: tuple[int, ...]
    score: int
    bottom: str | None = Field(None, description="Shown once the game has ended.")
    key_facts: tuple[str, ...] = Field((), description="Uncovered ones; all once it ended.")

    @property
    def progress(self) -> float:
        return len(self.facts_uncovered) / self.facts_total if self.facts_total else 0.0
