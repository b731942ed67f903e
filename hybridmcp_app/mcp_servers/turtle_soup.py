"""The ``turtle_soup`` MCP server: any MCP client plays turtle soup with HybridMCP's host judging.

    python -m hybridmcp_app.mcp_servers.turtle_soup [--game-host local|provider|hybrid|embedding]
        [--http [--host 127.0.0.1] [--port N]]

Tools: ``list_puzzles``, ``new_game`` (by difficulty, puzzle id, or your own surface and
bottom), ``ask``, ``guess``, ``hint``, ``reveal``, ``stats``. A game's view never holds the
bottom while the game runs. The host defaults to the one in HybridMCP's settings; the local
model loads the first time it is needed. Games live in the server's memory; finished ones go to
the same stats as the app's.

No ``from __future__ import annotations`` here: the SDK reads the tools' signatures with
``eval_str``.
"""

import argparse
from collections.abc import Awaitable, Sequence
from typing import Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from hybridmcp_app.config.settings import GameHost
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.game.game_models import MAX_GUESS_CHARS, GameView, GuessOutcome, Turn
from hybridmcp_app.game.game_rules import GameError
from hybridmcp_app.game.game_service import HOST_KINDS, GameService
from hybridmcp_app.game.game_stats import GameTotals
from hybridmcp_app.game.puzzle_models import Difficulty
from hybridmcp_app.mcp_servers.server_base import (
    READS,
    MCPServerBase,
    answer_or_refuse,
    tool_hints,
)

T = TypeVar("T")
PLAYS = tool_hints(read_only=False, destructive=False, idempotent=False)
ENDS = tool_hints(read_only=False, destructive=True, idempotent=False)
GameId = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$", description="From new_game.")]


class PuzzleSummary(FrozenModel):
    id: str
    title: str
    difficulty: Difficulty
    custom: bool


class PuzzleList(FrozenModel):
    puzzles: list[PuzzleSummary]


class Asked(FrozenModel):
    turn: Turn
    game: GameView


class Guessed(FrozenModel):
    outcome: GuessOutcome
    game: GameView


class Hinted(FrozenModel):
    hint: str
    game: GameView


async def _answer(call: Awaitable[T]) -> T:
    return await answer_or_refuse(call, GameError)


class TurtleSoupServer(MCPServerBase):
    """``GameRules`` as MCP tools."""

    name = "turtle_soup"

    def __init__(self, service: GameService) -> None:
        self.service = service

    def build(self) -> MCPServer:
        service = self.service
        server = MCPServer(
            self.name,
            instructions="Turtle soup: start a game, ask yes/no questions (answers: yes, no, "
            "irrelevant, partly), then guess what happened. The view never shows the hidden "
            "story until the game ends.",
        )

        @server.tool(annotations=READS)
        async def list_puzzles(difficulty: Difficulty | None = None) -> PuzzleList:
            """The puzzles to choose from (titles and ids only; no answers)."""
            rules = await _answer(service.rules())
            return PuzzleList(puzzles=[
                PuzzleSummary(id=p.id, title=p.title, difficulty=p.difficulty, custom=p.custom)
                for p in rules.bank.all() if difficulty in (None, p.difficulty)
            ])  # fmt: skip

        @server.tool(annotations=PLAYS)
        async def new_game(
            difficulty: Difficulty | None = None,
            puzzle_id: Annotated[str | None, Field(max_length=64)] = None,
            surface: Annotated[str | None, Field(max_length=1500)] = None,
            bottom: Annotated[str | None, Field(max_length=4000)] = None,
            title: Annotated[str | None, Field(max_length=80)] = None,
        ) -> GameView:
            """Start a game: a puzzle by id, your own (surface and bottom; it is kept), or a
            random one of the difficulty not played yet."""
            rules = await _answer(service.rules())
            custom = None
            if surface is not None or bottom is not None:
                custom = {"surface": surface, "bottom": bottom, "title": title}
            return await _answer(rules.new_game(difficulty, puzzle_id, custom))

        @server.tool(annotations=PLAYS)
        async def ask(game_id: GameId, question: Annotated[str, Field(max_length=2000)]) -> Asked:
            """Ask one yes/no question; the host answers yes, no, irrelevant or partly."""
            rules = await _answer(service.rules())
            turn = await _answer(rules.ask(game_id, question))
            return Asked(turn=turn, game=rules.view(game_id))

        @server.tool(annotations=PLAYS)
        async def guess(
            game_id: GameId, solution: Annotated[str, Field(max_length=MAX_GUESS_CHARS * 2)]
        ) -> Guessed:
            """Say what happened: correct ends the game; close says what is missing."""
            rules = await _answer(service.rules())
            outcome = await _answer(rules.guess(game_id, solution))
            return Guessed(outcome=outcome, game=rules.view(game_id))

        @server.tool(annotations=PLAYS)
        async def hint(game_id: GameId) -> Hinted:
            """The next hint (each one costs points)."""
            rules = await _answer(service.rules())
            text = await _answer(rules.hint(game_id))
            return Hinted(hint=text, game=rules.view(game_id))

        @server.tool(annotations=ENDS)
        async def reveal(game_id: GameId) -> GameView:
            """End the game and show the hidden story and every key fact."""
            rules = await _answer(service.rules())
            return await _answer(rules.reveal(game_id))

        @server.tool(annotations=READS)
        async def stats() -> GameTotals:
            """Games played and solved, scores, streak."""
            rules = await _answer(service.rules())
            return await _answer(rules.totals())

        return server


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmcp_app.mcp_servers.turtle_soup", add_help=False,
        description="Game options (the transport options follow).",
    )  # fmt: skip
    parser.add_argument("--game-host", choices=HOST_KINDS, help="who judges (default: settings)")
    args, rest = parser.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        parser.print_help()
    from hybridmcp_app.game.standalone import StandaloneGame

    game = StandaloneGame()
    if args.game_host:
        kind: GameHost = args.game_host
        game.settings = game.settings.model_copy(
            update={"game": game.settings.game.model_copy(update={"host": kind})}
        )
    TurtleSoupServer(game.service).main(rest)


if __name__ == "__main__":
    main()
