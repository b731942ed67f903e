"""The game's hosts on real parts: the embedded model, the llama.cpp server as the provider,
and the ONNX embedder."""

from __future__ import annotations

import pytest

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.puzzle_models import Puzzle


@pytest.fixture(scope="session")
def matcher() -> FactMatcher:
    return FactMatcher(OnnxEmbedder(threads=2))


@pytest.fixture
def umbrella() -> Puzzle:
    path = resources_dir() / "puzzles" / "the-dry-umbrella.json"
    return Puzzle.model_validate_json(path.read_text())
