"""Language-model hosts: the local model held to a grammar, a provider held to a JSON schema,
and the hybrid host that keeps the local answer when the local model is sure of it.

The model sees the surface, the bottom and the key facts, and may say only one of the allowed
words, so an answer can never carry the bottom to the player. The confidence of a local answer
is how likely its first token was among the allowed words' first tokens (``choices``). Which key
facts a yes/partly touched comes from ``FactMatcher``. A close guess gets a pointer to a
missing fact, phrased as a question by the model; ``GameRules`` drops it if it repeats the
bottom.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, ResponseFormat
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.game_models import GuessJudgement, Judgement, Verdict
from hybridmcp_app.game.puzzle_models import ANSWERS, Answer, Puzzle
from hybridmcp_app.llm.chat_backend import ChatBackend

VERDICTS: tuple[Verdict, ...] = ("correct", "close", "incorrect")
Constraint = Literal["grammar", "json_schema"]
J = TypeVar("J", Judgement, GuessJudgement)
HOST_RULES = (
    "You are the host of a lateral-thinking puzzle called turtle soup. The player knows only "
    "the story and asks questions to find the hidden truth. Judge each question against the "
    "hidden truth and answer with one word: Yes if it is true, No if it is false, Irrelevant "
    "if it does not matter to the story, Partly if it is partly true and partly false. Never "
    "reveal the hidden truth."
)


class HostError(HybridMCPError):
    """The host's model failed or answered outside the allowed words."""


def _grammar(words: tuple[str, ...]) -> str:
    return "root ::= " + " | ".join(f'"{word.capitalize()}"' for word in words)


def _schema(field: str, words: tuple[str, ...]) -> dict[str, object]:
    return {"type": "object", "additionalProperties": False, "required": [field],
            "properties": {field: {"type": "string", "enum": list(words)}}}  # fmt: skip


def story(puzzle: Puzzle) -> str:
    facts = "".join(f"\n{n}. {fact}" for n, fact in enumerate(puzzle.key_facts, 1))
    return (f"Story: {puzzle.surface}\nHidden truth: {puzzle.bottom}"
            + (f"\nKey facts:{facts}" if facts else ""))  # fmt: skip


def parse_word(text: str, words: tuple[str, ...], field: str) -> str:
    """The allowed word ``text`` says (plain or as ``{"field": word}``); else ``HostError``."""
    cleaned = text.strip()
    if cleaned.startswith("{"):
        try:
            cleaned = str(json.loads(cleaned).get(field, ""))
        except (json.JSONDecodeError, AttributeError):
            raise HostError(f"the host's answer is not valid JSON: {text[:80]!r}") from None
    word = cleaned.strip(" .!\"'").lower()
    if word not in words:
        raise HostError(f"the host answered {text[:80]!r}, not one of {', '.join(words)}")
    return word


def _share(
    choice_logprobs: tuple[float, ...], token_logprobs: tuple[float, ...], chosen: int
) -> float | None:
    """How likely the answer's first token was against the other words' first tokens (the
    grammar may have spelt the chosen word with another first token than its usual one)."""
    if not choice_logprobs or not token_logprobs:
        return None
    probabilities = [math.exp(logprob) for logprob in choice_logprobs]
    probabilities[chosen] = math.exp(token_logprobs[0])
    total = sum(probabilities)
    return probabilities[chosen] / total if total > 0 else None


class LlmHost:
    """A host on one chat backend (``name``: local or provider)."""

    def __init__(
        self,
        name: str,
        backend: ChatBackend,
        matcher: FactMatcher,
        constraint: Constraint,
        model: str | None = None,
    ) -> None:
        self.name, self.backend, self.matcher = name, backend, matcher
        self.constraint, self.model = constraint, model

    async def _ask(
        self, system: str, user: str, words: tuple[str, ...], field: str
    ) -> tuple[str, float | None]:
        response_format = (
            ResponseFormat(type="grammar", grammar=_grammar(words))
            if self.constraint == "grammar"
            else ResponseFormat(type="json_schema", json_schema=_schema(field, words))
        )
        request = InferenceRequest(
            messages=(ChatMessage(role="system", content=system),
                      ChatMessage(role="user", content=user)),
            model=self.model, response_format=response_format,
            parameters=ModelParameters(temperature=0.0, max_tokens=16, seed=0),
            logprobs=self.constraint == "grammar",
            choices=tuple(word.capitalize() for word in words)
            if self.constraint == "grammar" else (),
        )  # fmt: skip
        try:
            response = await self.backend.complete(request)
        except HybridMCPError as error:
            raise HostError(f"{self.name} model: {error}") from None
        if response.finish_reason == "error":
            raise HostError(f"{self.name} model: {response.error}")
        word = parse_word(response.text, words, field)
        return word, _share(response.choice_logprobs, response.token_logprobs, words.index(word))

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement:
        word, confidence = await self._ask(
            f"{HOST_RULES}\n\n{story(puzzle)}", f"Question: {question}", ANSWERS, "answer"
        )
        answer: Answer = word  # type: ignore[assignment]  # one of ANSWERS: parse_word checked
        facts = (
            await self.matcher.facts_about(puzzle, question) if word in ("yes", "partly") else ()
        )
        return Judgement(answer=answer, facts=facts, confidence=confidence, host=self.name)

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement:
        system = (
            "You judge the final guess in a lateral-thinking puzzle. Answer Correct if the "
            "guess explains the hidden truth (its key facts), Close if it gets part of it, "
            f"Incorrect otherwise.\n\n{story(puzzle)}"
        )
        word, confidence = await self._ask(system, f"Guess: {guess}", VERDICTS, "verdict")
        verdict: Verdict = word  # type: ignore[assignment]
        covered = await self.matcher.facts_about(puzzle, guess)
        missing = [i for i in range(len(puzzle.key_facts)) if i not in covered]
        note = (
            await self._pointer(puzzle.key_facts[missing[0]])
            if verdict == "close" and missing
            else ""
        )
        return GuessJudgement(verdict=verdict, facts=covered, note=note,
                              confidence=confidence, host=self.name)  # fmt: skip

    async def _pointer(self, fact: str) -> str:
        """A question that points at ``fact`` without answering it (best effort)."""
        request = InferenceRequest(
            messages=(ChatMessage(role="user", content=(
                "Write one short question (at most 10 words) that points a player at this fact "
                f"without stating it: {fact}")),),
            parameters=ModelParameters(temperature=0.0, max_tokens=24, seed=0),
            model=self.model,
        )  # fmt: skip
        try:
            response = await self.backend.complete(request)
        except HybridMCPError:
            return ""
        text = " ".join(response.text.split())
        return text if response.finish_reason != "error" and 3 <= len(text) <= 120 else ""


class HybridHost:
    """The local host when its first token is at least ``threshold`` likely; the provider
    otherwise (``escalated``), and also when the local model fails."""

    name = "hybrid"

    def __init__(self, local: LlmHost, provider: LlmHost, threshold: float = 0.6) -> None:
        self.local, self.provider, self.threshold = local, provider, threshold

    async def answer(self, puzzle: Puzzle, question: str) -> Judgement:
        judged, escalated = await self._judged(lambda host: host.answer(puzzle, question))
        return judged.model_copy(update={"host": self.name, "escalated": escalated})

    async def judge_guess(self, puzzle: Puzzle, guess: str) -> GuessJudgement:
        judged, _ = await self._judged(lambda host: host.judge_guess(puzzle, guess))
        return judged.model_copy(update={"host": self.name})

    async def _judged(self, ask: Callable[[LlmHost], Awaitable[J]]) -> tuple[J, bool]:
        """The local host's judgement when it is sure enough, else the provider's (escalated)."""
        try:
            judged = await ask(self.local)
            if (judged.confidence or 0.0) >= self.threshold:
                return judged, False
        except HostError:
            pass
        return await ask(self.provider), True
