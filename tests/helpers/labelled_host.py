"""A ``PuzzleHost`` for the rules' own tests: it answers from the puzzle's labelled questions
(anything else is irrelevant) and judges a guess by which key facts it quotes. The real hosts
(local, provider, hybrid, embedding) are tested against real models elsewhere."""

from __future__ import annotations

from hybridmcp_app.game.game_models import GuessJudgement, Judgement
from hybridmcp_app.game.game_rules import normalise
from hybridmcp_app.game.puzzle_models import Puzzle


class LabelledHost:
    name = "labelled"

    def __init__(self, note: str = "") -> None:
        self.note = note  # what a close verdict says is missing
        self.questions: list[str] = []

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement:
        self.questions.append(question)
        for labelled in puzzle.questions:
            if normalise(labelled.question) == normalise(question):
                return Judgement(answer=labelled.answer, facts=labelled.facts, host=self.name)
        return Judgement(answer="irrelevant", host=self.name)

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement:
        quoted = tuple(i for i, fact in enumerate(puzzle.key_facts)
                       if normalise(fact) in normalise(guess))  # fmt: skip
        if len(quoted) == len(puzzle.key_facts):
            return GuessJudgement(verdict="correct", facts=quoted, host=self.name)
        if quoted:
            return GuessJudgement(verdict="close", facts=quoted, note=self.note, host=self.name)
        return GuessJudgement(verdict="incorrect", host=self.name)
