"""Solver mode: a language model plays turtle soup — asks, hears the host's answers, guesses.

``ModelPlayer.play`` runs one game through ``GameRules`` exactly as a person would (the same
budget, refusals and scoring), reporting each move to ``on_move`` as it happens, and saves the
transcript as JSON in the data folder. ``race`` lets several players (the local model and the
provider) play the same puzzle side by side, each in its own game.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.game.game_models import GameState, GameView
from hybridmcp_app.game.game_rules import GameError, GameRules
from hybridmcp_app.llm.chat_backend import ChatBackend

MAX_QUESTIONS = 12  # a player guesses after this many questions at the latest
MAX_REFUSED = 3  # refused moves in a row before the player must guess
PLAYER_RULES = (
    "You are playing turtle soup, a lateral-thinking puzzle. You read a strange story and ask "
    "yes/no questions to find out what really happened; the host answers Yes, No, Irrelevant "
    "or Partly. Reply with exactly one line: either one new yes/no question, or, when you "
    "think you know, 'GUESS: ' followed by your explanation of what happened."
)


class Move(FrozenModel):
    """One step of a transcript."""

    kind: Literal["question", "guess", "refused", "error"]
    text: str
    reply: str = Field("", description="The host's answer, the verdict, or why it was refused.")
    seconds: float = 0.0


class Transcript(FrozenModel):
    player: str
    puzzle_id: str
    moves: list[Move]
    final: GameView
    seconds: float
    saved_to: str | None = None


def _line(text: str) -> str:
    """The model's first line, without a label it copied from the history ("Q:", "-> Yes")."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.split(r"\s*(?:->|\bA:)", first, maxsplit=1)[0]
    return re.sub(r"^(question|q)\s*[:\-]\s*", "", first, flags=re.IGNORECASE).strip()[:300]


class ModelPlayer:
    """A chat backend as a player."""

    def __init__(
        self, name: str, backend: ChatBackend, model: str | None = None,
        max_questions: int = MAX_QUESTIONS,
    ) -> None:  # fmt: skip
        self.name, self.backend, self.model = name, backend, model
        self.max_questions = max_questions

    async def _move(self, game: GameView, moves: list[Move], must_guess: bool) -> str:
        history = "\n".join(
            f"{'Q' if m.kind == 'question' else m.kind.capitalize()}: {m.text}\nA: {m.reply}"
            for m in moves if m.kind != "error"
        )  # fmt: skip
        instruction = ("You have no questions left: reply with 'GUESS: ' and your explanation."
                       if must_guess else "Your next line:")  # fmt: skip
        request = InferenceRequest(
            messages=(ChatMessage(role="system", content=PLAYER_RULES),
                      ChatMessage(role="user", content=f"Story: {game.surface}\n\n"
                                  f"So far:\n{history or '(nothing yet)'}\n\n{instruction}")),
            model=self.model,
            parameters=ModelParameters(temperature=0.7, max_tokens=80, seed=len(moves)),
        )  # fmt: skip
        response = await self.backend.complete(request)
        if response.finish_reason == "error":
            raise HybridMCPError(response.error or "the model failed")
        return _line(response.text)

    async def play(
        self,
        rules: GameRules,
        puzzle_id: str,
        on_move: Callable[[str, Move], None] = lambda player, move: None,
        transcripts_dir: Path | None = None,
    ) -> Transcript:
        started = time.perf_counter()
        game = await rules.new_game(puzzle_id=puzzle_id)
        moves: list[Move] = []
        refused = 0
        while game.state is GameState.PLAYING:
            asked = sum(m.kind == "question" for m in moves)
            must_guess = asked >= min(self.max_questions, game.questions_left + asked) or (
                refused >= MAX_REFUSED
            )
            move_started = time.perf_counter()
            try:
                line = await self._move(game, moves, must_guess)
            except HybridMCPError as error:
                moves.append(Move(kind="error", text=str(error)))
                on_move(self.name, moves[-1])
                break
            move = await self._apply(rules, game.game_id, line, must_guess)
            move = move.model_copy(update={"seconds": time.perf_counter() - move_started})
            refused = refused + 1 if move.kind == "refused" else 0
            moves.append(move)
            on_move(self.name, move)
            game = rules.view(game.game_id)
        if game.state is GameState.PLAYING:
            game = await rules.abandon(game.game_id)
        transcript = Transcript(player=self.name, puzzle_id=puzzle_id, moves=moves, final=game,
                                seconds=time.perf_counter() - started)  # fmt: skip
        if transcripts_dir is not None:
            transcript = await asyncio.to_thread(_save, transcript, transcripts_dir)
        return transcript

    async def _apply(self, rules: GameRules, game_id: str, line: str, must_guess: bool) -> Move:
        is_guess = line.upper().startswith("GUESS") or must_guess
        text = re.sub(r"^guess\s*[:\-]?\s*", "", line, flags=re.IGNORECASE) if is_guess else line
        try:
            if is_guess:
                outcome = await rules.guess(game_id, text)
                return Move(kind="guess", text=text, reply=outcome.message)
            turn = await rules.ask(game_id, text)
            return Move(kind="question", text=text, reply=turn.answer.capitalize())
        except GameError as refusal:
            return Move(kind="refused", text=text, reply=str(refusal))


def _save(transcript: Transcript, folder: Path) -> Transcript:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{transcript.player}-{transcript.puzzle_id}.json"
    saved = transcript.model_copy(update={"saved_to": str(path)})
    path.write_text(saved.model_dump_json(indent=2), encoding="utf-8")
    return saved


async def race(
    rules: GameRules,
    puzzle_id: str,
    players: Sequence[ModelPlayer],
    on_move: Callable[[str, Move], None] = lambda player, move: None,
    transcripts_dir: Path | None = None,
) -> list[Transcript]:
    """Every player on the same puzzle at once, each in its own game."""
    return list(await asyncio.gather(*(
        player.play(rules, puzzle_id, on_move, transcripts_dir) for player in players
    )))  # fmt: skip
