"""``hybridmcp game judge``: any puzzle judged from the command line by the game's hosts.

    hybridmcp game judge --surface TEXT --bottom TEXT [--host local|provider|hybrid|embedding]
        [--guess] [--json] "question or guess"

Prints the host's answer (Yes / No / Irrelevant / Partly), or with ``--guess`` its verdict
(Correct / Close / Incorrect); ``--json`` adds the confidence, the host and, for the hybrid
host, whether the provider was asked. Exit codes: 0 judged, 2 bad input, 3 the host is not
available (no local model, no provider, no key).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from pydantic import ValidationError

from hybridmcp_app.core.errors import HybridMCPError, describe_validation_error
from hybridmcp_app.game.game_models import PuzzleHost
from hybridmcp_app.game.game_rules import GameError
from hybridmcp_app.game.puzzle_models import Puzzle

EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 2, 3


async def judge(args: argparse.Namespace) -> dict[str, Any]:
    from hybridmcp_app.game.standalone import StandaloneGame

    puzzle = Puzzle(id="command-line", title="Command line", surface=args.surface,
                    bottom=args.bottom, custom=True)  # fmt: skip
    game = StandaloneGame()
    try:
        async with game.service.hosting(args.host or game.settings.game.host) as host:
            return await _judged(host, puzzle, args)
    finally:
        await game.close()


async def _judged(host: PuzzleHost, puzzle: Puzzle, args: argparse.Namespace) -> dict[str, Any]:
    if args.guess:
        verdict = await host.judge_guess(puzzle, args.text)
        return {"verdict": verdict.verdict, "confidence": verdict.confidence,
                "host": verdict.host, "note": verdict.note}  # fmt: skip
    answer = await host.answer(puzzle, args.text)
    return {"answer": answer.answer, "confidence": answer.confidence, "host": answer.host,
            "escalated": answer.escalated}  # fmt: skip


def main_game(args: argparse.Namespace) -> int:
    text = " ".join(args.text.split())
    if not text or not args.surface.strip() or not args.bottom.strip():
        print("hybridmcp game judge: the surface, the bottom and the text must not be empty",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    args.text = text
    try:
        result = asyncio.run(judge(args))
    except ValidationError as error:  # a surface or bottom the puzzle model refuses
        for line in describe_validation_error(error):
            print(f"hybridmcp game judge: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (GameError, HybridMCPError) as error:
        print(f"hybridmcp game judge: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if args.json:
        print(json.dumps(result))
    else:
        print(str(result.get("answer") or result["verdict"]).capitalize())
    return 0
