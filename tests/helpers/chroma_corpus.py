"""Generated text corpora for the library's tests, and the chunks they must end up as."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.document_parsers import parse_document
from hybridmcp_app.documents.text_chunker import chunk_document
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder

TOPICS = (
    "volcanoes and the lava flows they pour out",
    "baking sourdough bread with a slow starter",
    "the roads and legions of the Roman empire",
    "training neural networks by gradient descent",
    "arctic terns migrating from pole to pole",
    "tuning a violin and caring for its strings",
)
FACT = "The lighthouse keeper's launch code is PELICAN-42, written on the brass plate."
FACT_QUESTION = "What is the launch code of the lighthouse keeper?"


def essay(topic: str, seed: int, paragraphs: int = 6) -> str:
    """A Markdown note about ``topic``: a heading, then paragraphs of plain sentences."""
    rng = random.Random(seed)
    parts = [f"# Notes on {topic}"]
    for paragraph in range(paragraphs):
        sentences = [
            f"Observation {sentence} of part {paragraph} concerns {topic}, "
            f"measured at {rng.randint(10, 999)} units on day {rng.randint(1, 365)}."
            for sentence in range(rng.randint(3, 8))
        ]
        parts.append(" ".join(sentences))
    return "\n\n".join(parts) + "\n"


def write_corpus(folder: Path, files: int = 24, *, paragraphs: int = 6) -> list[Path]:
    """``files`` Markdown notes (a few chunks each) and one text file holding ``FACT``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(files):
        path = folder / f"note-{number:03}.md"
        path.write_text(essay(TOPICS[number % len(TOPICS)], number, paragraphs), encoding="utf-8")
        paths.append(path)
    fact = folder / "keeper.txt"
    fact.write_text(f"Notes from the lighthouse.\n\n{FACT}\n", encoding="utf-8")
    return [*paths, fact]


def expected_chunk_ids(
    paths: Sequence[Path], embedder: OnnxEmbedder, settings: DocumentsSettings
) -> dict[Path, set[str]]:
    """The chunk ids each file must have in the store once indexed, worked out directly."""
    expected = {}
    for path in paths:
        chunks = chunk_document(
            parse_document(path.absolute()),
            embedder.count_tokens,
            chunk_tokens=settings.chunk_tokens,
            overlap_tokens=settings.chunk_overlap_tokens,
        )
        expected[path.absolute()] = {chunk.id for chunk in chunks}
    return expected
