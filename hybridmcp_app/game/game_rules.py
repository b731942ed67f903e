"""``GameRules`` (the product plan's ``rules()``): the turtle-soup state machine.

A game starts from a difficulty, a puzzle id or a player's own surface and bottom, and is
*playing* until it is *solved* (a correct guess), *revealed* (asked for, or the last guess
missed) or *abandoned*. Each difficulty has a question budget and three guesses; hints cost
points. A question gets one of Yes / No / Irrelevant / Partly from the host (``PuzzleHost``), and
the key facts a yes or partly touched count as uncovered: progress. A guess is judged correct,
close (with what is missing, never the answer) or incorrect. Empty, repeated or overlong input,
and anything asked after the end, get a clear ``GameError`` and cost no turn. Finished games go
to ``GameStats``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.game.game_models import (
    GUESSES_ALLOWED,
    MAX_GUESS_CHARS,
    MAX_INPUT_CHARS,
    QUESTION_BUDGET,
    GameState,
    GameView,
    GuessOutcome,
    PuzzleHost,
    Turn,
)
from hybridmcp_app.game.game_stats import GameStats, GameTotals
from hybridmcp_app.game.puzzle_bank import PuzzleBank, PuzzleError
from hybridmcp_app.game.puzzle_models import Difficulty, Puzzle

BASE_SCORE: dict[Difficulty, int] = {"easy": 100, "medium": 150, "hard": 200}
QUESTION_COST, HINT_COST, MISS_COST, SOLVED_FLOOR = 3, 15, 10, 10
LEAK_WORDS = 5  # a note sharing this many words in a row with the bottom gives it away
MAX_GAMES = 200  # games kept in memory; the oldest finished ones go first


class GameError(HybridMCPError):
    """A move the game does not take; the message says why and what to do instead."""


@dataclass
class _Game:
    game_id: str
    puzzle: Puzzle
    state: GameState = GameState.PLAYING
    turns: list[Turn] = field(default_factory=list)
    asked: dict[str, Turn] = field(default_factory=dict)
    uncovered: list[int] = field(default_factory=list)
    hints_shown: int = 0
    misses: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def normalise(question: str) -> str:
    return " ".join(re.findall(r"[\w']+", question.casefold()))


def _cleaned(text: str, what: str, limit: int, when_empty: str) -> str:
    """``text`` with its whitespace collapsed, or a ``GameError`` when it is empty or too long."""
    text = " ".join(text.split())
    if not text:
        raise GameError(when_empty)
    if len(text) > limit:
        raise GameError(f"That {what} is {len(text)} characters long; keep it under {limit}.")
    return text


def leaks(note: str, bottom: str) -> bool:
    """True when ``note`` repeats LEAK_WORDS or more words of the bottom in a row."""
    words, told = normalise(bottom).split(), normalise(note)
    return any(" ".join(words[i : i + LEAK_WORDS]) in told
               for i in range(len(words) - LEAK_WORDS + 1))  # fmt: skip


class GameRules:
    """Games in play, judged by ``host``; the bank for puzzles, ``stats`` for finished games."""

    def __init__(self, bank: PuzzleBank, host: PuzzleHost, stats: GameStats | None = None) -> None:
        self.bank, self.host, self.stats = bank, host, stats
        self._games: dict[str, _Game] = {}

    # ---------------------------------------------------------------- starting
    async def new_game(
        self,
        difficulty: Difficulty | None = None,
        puzzle_id: str | None = None,
        custom: dict[str, Any] | None = None,
    ) -> GameView:
        """A new game: the given puzzle, a player's own (``custom``: surface and bottom at
        least; it is kept with the bank), or a random one of ``difficulty`` not played yet."""
        try:
            if custom is not None:
                puzzle = await asyncio.to_thread(self.bank.add_custom, custom)
            elif puzzle_id is not None:
                puzzle = self.bank.get(puzzle_id)
            else:
                played = (await self.totals()).puzzles_played if self.stats else []
                puzzle = self.bank.pick(difficulty, exclude=played)
        except PuzzleError as error:
            raise GameError(str(error)) from None
        game = _Game(game_id=secrets.token_hex(6), puzzle=puzzle)
        self._forget_old()
        self._games[game.game_id] = game
        return self._view(game)

    def _forget_old(self) -> None:
        finished = [key for key, game in self._games.items() if game.state != GameState.PLAYING]
        while len(self._games) >= MAX_GAMES and finished:
            del self._games[finished.pop(0)]

    # ---------------------------------------------------------------- moves
    async def ask(self, game_id: str, question: str) -> Turn:
        game = self._playing(game_id)
        question = _cleaned(question, "question", MAX_INPUT_CHARS, "Type a question first.")
        async with game.lock:
            self._still_playing(game)
            earlier = game.asked.get(normalise(question))
            if earlier is not None:
                raise GameError(f"You already asked that (question {earlier.number}: "
                                f"{earlier.answer.capitalize()}).")  # fmt: skip
            if self._questions_left(game) <= 0:
                raise GameError("No questions left: make a guess, or reveal the answer.")
            try:
                judged = await self.host.answer(game.puzzle, question)
            except HybridMCPError as error:
                raise GameError(f"The host could not answer: {error}") from None
            touched = judged.facts if judged.answer in ("yes", "partly") else ()
            new = tuple(i for i in touched if i not in game.uncovered)
            game.uncovered.extend(new)
            turn = Turn(number=len(game.turns) + 1, question=question, answer=judged.answer,
                        facts=touched, new_facts=new)  # fmt: skip
            game.turns.append(turn)
            game.asked[normalise(question)] = turn
            return turn

    async def guess(self, game_id: str, solution: str) -> GuessOutcome:
        game = self._playing(game_id)
        solution = _cleaned(solution, "guess", MAX_GUESS_CHARS,
                            "Write your explanation of what happened first.")  # fmt: skip
        async with game.lock:
            self._still_playing(game)
            try:
                judged = await self.host.judge_guess(game.puzzle, solution)
            except HybridMCPError as error:
                raise GameError(f"The host could not judge the guess: {error}") from None
            game.uncovered.extend(i for i in judged.facts if i not in game.uncovered)
            if judged.verdict == "correct":
                await self._end(game, GameState.SOLVED)
                return GuessOutcome(verdict="correct", facts=judged.facts,
                                    message="Solved! " + game.puzzle.bottom)  # fmt: skip
            game.misses += 1
            left = GUESSES_ALLOWED - game.misses
            message = self._miss_message(game, judged.verdict, judged.note)
            if left <= 0:
                await self._end(game, GameState.REVEALED)
                message += f" No guesses left. The answer: {game.puzzle.bottom}"
            else:
                message += f" {left} guess{'es' if left > 1 else ''} left."
            return GuessOutcome(verdict=judged.verdict, message=message, facts=judged.facts)

    def _miss_message(self, game: _Game, verdict: str, note: str) -> str:
        if verdict == "incorrect":
            return "Not it."
        total = len(game.puzzle.key_facts)
        have = f" You have {len(game.uncovered)} of {total} key facts." if total else ""
        if note and not leaks(note, game.puzzle.bottom):
            return f"Close!{have} Still missing: {note.strip()}"
        return f"Close!{have} Part of the story is still unexplained."

    async def hint(self, game_id: str) -> str:
        game = self._playing(game_id)
        async with game.lock:
            self._still_playing(game)
            if game.hints_shown >= len(game.puzzle.hints):
                raise GameError("There are no more hints for this puzzle.")
            game.hints_shown += 1
            return game.puzzle.hints[game.hints_shown - 1]

    async def reveal(self, game_id: str) -> GameView:
        return await self._end_by_player(game_id, GameState.REVEALED)

    async def abandon(self, game_id: str) -> GameView:
        return await self._end_by_player(game_id, GameState.ABANDONED)

    async def _end_by_player(self, game_id: str, state: GameState) -> GameView:
        game = self._playing(game_id)
        async with game.lock:
            self._still_playing(game)
            await self._end(game, state)
        return self._view(game)

    # ---------------------------------------------------------------- reading
    def view(self, game_id: str) -> GameView:
        return self._view(self._get(game_id))

    async def totals(self) -> GameTotals:
        if self.stats is None:
            raise GameError("no stats are kept for these games")
        return await asyncio.to_thread(self.stats.totals)

    # ---------------------------------------------------------------- helpers
    def _get(self, game_id: str) -> _Game:
        game = self._games.get(game_id)
        if game is None:
            raise GameError(f"no game {game_id!r}: start a new one")
        return game

    def _playing(self, game_id: str) -> _Game:
        game = self._get(game_id)
        self._still_playing(game)
        return game

    @staticmethod
    def _still_playing(game: _Game) -> None:
        if game.state != GameState.PLAYING:
            raise GameError(f"This game is over ({game.state.value}); start a new one.")

    def _questions_left(self, game: _Game) -> int:
        return QUESTION_BUDGET[game.puzzle.difficulty] - len(game.turns)

    def _score(self, game: _Game) -> int:
        if game.state in (GameState.REVEALED, GameState.ABANDONED):
            return 0
        score = (BASE_SCORE[game.puzzle.difficulty] - QUESTION_COST * len(game.turns)
                 - HINT_COST * game.hints_shown - MISS_COST * game.misses)  # fmt: skip
        return max(SOLVED_FLOOR, score)

    async def _end(self, game: _Game, state: GameState) -> None:
        game.state = state
        if self.stats is not None:
            await asyncio.to_thread(self.stats.record, self._view(game))

    def _view(self, game: _Game) -> GameView:
        puzzle, ended = game.puzzle, game.state != GameState.PLAYING
        shown = range(len(puzzle.key_facts)) if ended else game.uncovered
        return GameView(
            game_id=game.game_id, puzzle_id=puzzle.id, title=puzzle.title,
            surface=puzzle.surface, difficulty=puzzle.difficulty, state=game.state,
            turns=tuple(game.turns), questions_left=max(0, self._questions_left(game)),
            guesses_left=GUESSES_ALLOWED - game.misses,
            hints_shown=puzzle.hints[: game.hints_shown],
            hints_left=len(puzzle.hints) - game.hints_shown,
            facts_total=len(puzzle.key_facts), facts_uncovered=tuple(game.uncovered),
            score=self._score(game), bottom=puzzle.bottom if ended else None,
            key_facts=tuple(puzzle.key_facts[i] for i in shown),
        )  # fmt: skip
