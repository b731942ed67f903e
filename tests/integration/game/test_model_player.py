"""Solver mode on real models: the embedded model and the provider (the llama.cpp server) race
on the same puzzle, each in its own game, judged by the embedding host; every move is reported
as it happens and both transcripts are saved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.game.embedding_host import EmbeddingHost
from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.game_models import GameState
from hybridmcp_app.game.game_rules import GameRules
from hybridmcp_app.game.game_stats import GameStats
from hybridmcp_app.game.model_player import ModelPlayer, Move, race
from hybridmcp_app.game.puzzle_bank import PuzzleBank
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

pytestmark = pytest.mark.integration
UMBRELLA = "the-dry-umbrella"


def read_json(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


async def test_two_models_race_on_one_puzzle_and_both_transcripts_are_kept(
    gemma: LlamaCppBackend, provider: OpenAICompatBackend, matcher: FactMatcher, tmp_path: Path
) -> None:
    (tmp_path / "bank").mkdir()
    shutil.copy(resources_dir() / "puzzles" / f"{UMBRELLA}.json", tmp_path / "bank")
    rules = GameRules(PuzzleBank(tmp_path / "bank", tmp_path / "custom"), EmbeddingHost(matcher),
                      GameStats(tmp_path / "stats.sqlite3"))  # fmt: skip
    seen: list[tuple[str, Move]] = []
    players = [ModelPlayer("local", gemma, max_questions=3),
               ModelPlayer("provider", provider, model="gemma", max_questions=3)]  # fmt: skip

    local, remote = await race(rules, UMBRELLA, players, lambda p, m: seen.append((p, m)),
                               tmp_path / "transcripts")  # fmt: skip

    for transcript in (local, remote):
        assert transcript.final.state is not GameState.PLAYING
        assert transcript.final.bottom is not None  # shown once the game has ended
        assert transcript.moves and transcript.moves[-1].kind in ("guess", "refused", "error")
        assert sum(m.kind == "question" for m in transcript.moves) <= 3
        assert transcript.saved_to is not None
        saved = read_json(transcript.saved_to)
        assert saved["player"] == transcript.player and len(saved["moves"]) == len(transcript.moves)
    assert local.final.game_id != remote.final.game_id
    assert [m for p, m in seen if p == "local"] == local.moves
    assert (await rules.totals()).played == 2
