"""The embedding baseline host: no language model, only how close a question is to the story.

A question close to a key fact or a sentence of the bottom gets *yes*; one close to neither the
bottom nor the surface is *irrelevant*; the rest *no*. It cannot tell a question from its
negation and never says *partly*: it is the floor the language-model hosts must beat
(``benchmarks.game_host``), and an offline, instant host when no model is loaded.
"""

from __future__ import annotations

from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.game_models import GuessJudgement, Judgement, Verdict
from hybridmcp_app.game.puzzle_models import Puzzle

YES_AT = 0.55  # similarity to a fact or a bottom sentence that reads as "yes"
RELEVANT_AT = 0.30  # below this for every part of the story: irrelevant
CORRECT_SHARE, CLOSE_SHARE = 0.99, 0.5  # key facts a guess must cover
GUESS_CORRECT_AT, GUESS_CLOSE_AT = 0.75, 0.55  # with no key facts: similarity to the bottom


class EmbeddingHost:
    """Answers by sentence similarity (MiniLM); confidence is the similarity that decided."""

    name = "embedding"

    def __init__(self, matcher: FactMatcher) -> None:
        self.matcher = matcher

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement:
        to_facts, to_bottom = await self.matcher.similarities(puzzle, question)
        best = max(to_facts + to_bottom, default=0.0)
        if best >= YES_AT:
            facts = tuple(i for i, s in enumerate(to_facts) if s >= self.matcher.threshold)
            return Judgement(answer="yes", facts=facts, confidence=min(1.0, best), host=self.name)
        # Cosine similarity can be negative (text about nothing in the story): no less sure.
        unlike = 1 - max(0.0, best)
        if best < RELEVANT_AT:
            return Judgement(answer="irrelevant", confidence=unlike, host=self.name)
        return Judgement(answer="no", confidence=unlike, host=self.name)

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement:
        to_facts, to_bottom = await self.matcher.similarities(puzzle, guess)
        if to_facts:
            covered = tuple(i for i, s in enumerate(to_facts) if s >= YES_AT)
            share = len(covered) / len(to_facts)
            verdict = _verdict(share, CORRECT_SHARE, CLOSE_SHARE)
            return GuessJudgement(verdict=verdict, facts=covered, confidence=share, host=self.name)
        best = max(to_bottom, default=0.0)
        verdict = _verdict(best, GUESS_CORRECT_AT, GUESS_CLOSE_AT)
        return GuessJudgement(verdict=verdict, confidence=max(0.0, best), host=self.name)


def _verdict(value: float, correct_at: float, close_at: float) -> Verdict:
    if value >= correct_at:
        return "correct"
    return "close" if value >= close_at else "incorrect"
