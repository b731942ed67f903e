"""The learned difficulty signal, with the real embedder and the shipped labelled set."""

import asyncio
import json

import pytest

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.orchestration.difficulty import DifficultyClassifier

LABELLED = resources_dir() / "routing" / "difficulty.json"


def test_the_labelled_set_is_balanced_and_unique() -> None:
    prompts = json.loads(LABELLED.read_text())["prompts"]
    labels = [p["label"] for p in prompts]
    assert labels.count("easy") == labels.count("hard") == 80
    assert len({p["text"] for p in prompts}) == 160


@pytest.fixture(scope="module")
def classifier() -> DifficultyClassifier:
    return asyncio.run(DifficultyClassifier.load(LABELLED, OnnxEmbedder()))


@pytest.mark.parametrize(
    ("prompt", "easy"),
    [
        ("What is the capital of Portugal?", True),
        ("Convert 3 kilometres to miles.", True),
        ("Say good morning in Italian.", True),
        (
            "Write a Python function that merges overlapping intervals and explain its complexity.",
            False,
        ),
        ("Compare the trade-offs of event sourcing versus CRUD for a banking system.", False),
        ("Prove that the square root of 2 is irrational.", False),
    ],
)
def test_new_prompts_are_judged_like_their_labelled_neighbours(
    classifier: DifficultyClassifier, prompt: str, easy: bool
) -> None:
    vector = OnnxEmbedder().embed_sync([prompt])[0]
    verdict = classifier.classify(vector)
    assert verdict.easy is easy, (verdict.easy_share, verdict.nearest)
