"""A learned difficulty signal for Route: nearest labelled prompts (easy or hard) by meaning.

The labelled set is the project's own (``resources/routing/difficulty.json``, 80 easy and 80
hard prompts). A prompt is easy when most of its ``K`` nearest neighbours are, weighted by
similarity.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder

K = 7


@dataclass(frozen=True)
class DifficultyVerdict:
    easy: bool
    easy_share: float  # similarity-weighted share of easy neighbours, 0..1
    nearest: str


class DifficultyClassifier:
    """k-nearest-neighbour vote over the labelled prompts' embeddings."""

    def __init__(self, texts: list[str], easy: list[bool], vectors: np.ndarray[Any, Any]) -> None:
        self._texts, self._easy, self._vectors = texts, np.array(easy), vectors

    @classmethod
    async def load(cls, path: Path, embedder: OnnxEmbedder) -> DifficultyClassifier:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        prompts = json.loads(text)["prompts"]
        texts = [p["text"] for p in prompts]
        easy = [p["label"] == "easy" for p in prompts]
        return cls(texts, easy, await embedder.embed(texts))

    def classify(self, vector: np.ndarray[Any, Any]) -> DifficultyVerdict:
        similarity = self._vectors @ vector
        nearest = np.argsort(-similarity)[:K]
        weights = np.clip(similarity[nearest], 1e-6, None)
        share = float((weights * self._easy[nearest]).sum() / weights.sum())
        return DifficultyVerdict(share >= 0.5, share, self._texts[int(nearest[0])])
