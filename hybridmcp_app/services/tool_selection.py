"""Tool selection by the local side: before a provider request with tools, rank the enabled
tools against the conversation's last turns and offer only the best few, the pinned ones, and
(when any is left out) ``search_tools`` for the rest (``orchestration/tool_offer``).

The ranking, as a plain function for the benchmark (``benchmarks/tool_selection.py``)::

    rank_tools(tool_texts, query_texts, embed) -> list[(name, score)]

* ``tool_texts``: ``{name: text}``, each text as ``tool_text(McpTool)`` writes it;
* ``query_texts``: the conversation's last turns, oldest first; the last one (the request being
  answered) weighs most, each earlier one ``RECENCY`` times less;
* ``embed``: texts → (n, d) unit vectors, e.g. ``OnnxEmbedder().embed_sync``;
* the result: every name, best first. Two rankings are fused by reciprocal rank (RRF): by
  meaning, the weighted mean of the cosine similarity between the tool and each turn; and by
  words, BM25 over the tool texts for the last turn's words (stopwords left out). The score
  is the fused one, scaled so that 1.0 is first in both.

Measured on benchmarks/data/tool_selection (202 requests, 162 tools): either ranking alone
needs k = 40 for recall 0.95, if it gets there; fused, k = 25 does (about 6x fewer tool tokens).

``ToolSelector.select`` ranks with the ``ToolIndex``'s cached tool vectors, then (when asked and
given a ``LocalToolCheck``) lets the local model reorder the first 2k (``services/tool_check``);
``chooser`` makes the per-turn ``ToolChooser`` the tool loop asks (the settings' k, pins,
threshold and ``tool_check_by_local_model``).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.events import OfferedTool
from hybridmcp_app.orchestration.tool_offer import ToolChoice
from hybridmcp_app.services.tool_check import LocalToolCheck, check_note, merge_checked
from hybridmcp_app.services.tool_index import ToolIndex, Vectors, tool_text

RECENCY = 0.5  # an earlier turn's weight, relative to the turn after it
RECENT_TURNS = 3  # the user's last messages that the ranking reads
MAX_TURN_CHARS = 1_000  # a long paste says little more about the tool it needs
log = logging.getLogger("hybridmcp.tool_selection")
RRF_C = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
_WORD = re.compile(r"[a-z0-9]+")
Embed = Callable[[Sequence[str]], Any]

__all__ = ["RECENCY", "ToolIndex", "ToolSelection", "ToolSelector", "rank_tools", "tool_text"]


def _weights(count: int) -> Vectors:
    weights = np.array([RECENCY ** (count - 1 - i) for i in range(count)], dtype=np.float32)
    normalised: Vectors = (weights / weights.sum()).astype(np.float32)
    return normalised


def _scores(tool_vectors: Vectors, query_vectors: Vectors) -> Vectors:
    """Each tool's weighted mean cosine similarity to the turns (the last weighs most)."""
    if len(query_vectors) == 0:
        return np.zeros(len(tool_vectors), dtype=np.float32)
    similarities = tool_vectors @ query_vectors.T
    scores: Vectors = (similarities @ _weights(len(query_vectors))).astype(np.float32)
    return scores


@functools.cache
def _stopwords() -> frozenset[str]:
    """English stopwords (YAKE's list, installed with the app): in a few hundred tool texts,
    BM25 would take "in" or "it" for a clue."""
    spec = importlib.util.find_spec("yake")
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        listed = Path(folder) / "core" / "StopwordsList" / "stopwords_en.txt"
        try:
            return frozenset(listed.read_text(encoding="utf-8").split())
        except OSError:
            continue
    log.warning("no stopword list found: keyword ranking reads every word")
    return frozenset()


def _keyword_scores(texts: Sequence[str], query: str) -> Vectors | None:
    """BM25 (Okapi) scores of the tool texts for the words of ``query`` (the last turn); None
    when they tell no tool from another."""
    from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]

    words = [word for word in _WORD.findall(query.lower()) if word not in _stopwords()]
    if not words:
        return None
    index = BM25Okapi([_WORD.findall(text.lower()) or ["_"] for text in texts])
    scores = np.asarray(index.get_scores(words), dtype=np.float32)
    return scores if float(np.ptp(scores)) > 0 else None


def _places(names: Sequence[str], scores: Vectors) -> Vectors:
    order = sorted(range(len(names)), key=lambda i: (-float(scores[i]), names[i]))
    places = np.empty(len(names), dtype=np.float32)
    places[order] = np.arange(1, len(names) + 1, dtype=np.float32)
    return places


def _rank(
    names: Sequence[str],
    texts: Sequence[str],
    tool_vectors: Vectors,
    queries: Sequence[str],
    query_vectors: Vectors,
) -> list[tuple[str, float]]:
    """The tools by reciprocal-rank fusion of meaning (cosine, all turns) and words (BM25, the
    last turn), best first; a score of 1.0 is first in both; no turns: every score is 0."""
    if not queries:
        return [(name, 0.0) for name in sorted(names)]
    rankings = [_places(names, _scores(tool_vectors, query_vectors))]
    keyword = _keyword_scores(texts, queries[-1])
    if keyword is not None:
        rankings.append(_places(names, keyword))
    fused = sum(((RRF_C + 1) / (RRF_C + places) for places in rankings), np.zeros(len(names)))
    scores = fused / len(rankings)
    order = sorted(range(len(names)), key=lambda i: (-float(scores[i]), names[i]))
    return [(names[i], round(float(scores[i]), 4)) for i in order]


def rank_tools(
    tool_texts: Mapping[str, str], query_texts: Sequence[str], embed: Embed
) -> list[tuple[str, float]]:
    """Every tool name with its score against the turns, best first (see the module's doc)."""
    names = list(tool_texts)
    if not names:
        return []
    texts = [tool_texts[name] for name in names]
    tool_vectors = np.asarray(embed(texts), dtype=np.float32)
    queries = [text for text in query_texts if text.strip()]
    query_vectors = (
        np.asarray(embed(queries), dtype=np.float32)
        if queries
        else np.zeros((0, tool_vectors.shape[1]), dtype=np.float32)
    )
    return _rank(names, texts, tool_vectors, queries, query_vectors)


def recent_turns(messages: Sequence[ChatMessage], count: int = RECENT_TURNS) -> list[str]:
    """The text of the user's last ``count`` messages, oldest first. The user's words say what
    is needed; the assistant's replies, tool turns and system prompts mostly add noise, and
    each earlier request's vector is still in memory from its own turn (one new embedding a
    turn)."""
    asked = [m.content[:MAX_TURN_CHARS] for m in messages if m.role == "user" and m.content.strip()]
    return asked[-count:]


class ToolSelection(FrozenModel):
    """What a request offers: the chosen tools (and why), the names left out, and how the
    local model's check went (empty when it did not run)."""

    offered: tuple[OfferedTool, ...]
    left_out: tuple[str, ...] = ()
    note: str = ""

    @property
    def search(self) -> bool:
        """Whether the request carries ``search_tools`` (tools were left out)."""
        return bool(self.left_out)


class ToolSelector:
    """Ranks tools for a conversation with the index's cached vectors."""

    def __init__(
        self, index: ToolIndex | Callable[[], ToolIndex], check: LocalToolCheck | None = None
    ) -> None:
        """``index``, or a way to make it (blocking: called off the event loop, once);
        ``check``: the local model's second pass, for the selections that ask for it."""
        self._index, self._lock, self._check = index, threading.Lock(), check

    @property
    def index(self) -> ToolIndex:
        """The index, made on first use (blocking)."""
        with self._lock:
            if not isinstance(self._index, ToolIndex):
                self._index = self._index()
            return self._index

    def _rank_sync(
        self, tools: Sequence[McpTool], queries: Sequence[str]
    ) -> list[tuple[str, float]]:
        names = [tool.qualified_name for tool in tools]
        texts = [tool_text(tool) for tool in tools]
        kept = [text for text in queries if text.strip()]
        tool_vectors = self.index.vectors_sync(texts)
        query_vectors = self.index.embed_queries_sync(kept)
        return _rank(names, texts, tool_vectors, kept, query_vectors)

    async def rank(
        self, tools: Sequence[McpTool], queries: Sequence[str]
    ) -> list[tuple[str, float]]:
        """Every tool's qualified name with its score, best first (embedding off the loop)."""
        if not tools:
            return []
        return await asyncio.to_thread(self._rank_sync, list(tools), list(queries))

    async def select(
        self,
        tools: Sequence[McpTool],
        recent: Sequence[str],
        k: int,
        pinned: Sequence[str] = (),
        check: bool = False,
    ) -> ToolSelection:
        """The ``k`` best tools for the turns ``recent`` (oldest first), plus the pinned ones;
        ``check``: the local model reorders the first 2k first (when it can)."""
        available = {tool.qualified_name: tool for tool in tools}
        offered = [OfferedTool(name=name, reason="pinned") for name in pinned if name in available]
        taken = {tool.name for tool in offered}
        ranked = await self.rank([t for t in tools if t.qualified_name not in taken], recent)
        note = ""
        if check and self._check is not None and recent and len(ranked) > k:
            candidates = [available[name] for name, _ in ranked[: 2 * k]]
            result = await self._check.pick(candidates, recent[-1], k)
            note = result.note
            if result.picks:
                ranked, promoted = merge_checked(ranked, result.picks, k)
                note = check_note(result, promoted, len(candidates))
        offered += [OfferedTool(name=n, reason="ranked", score=s) for n, s in ranked[:k]]
        left_out = tuple(n for n, _ in ranked[k:])
        return ToolSelection(offered=tuple(offered), left_out=left_out, note=note)

    def chooser(
        self, k: int, pinned: Sequence[str], above: int, check: bool = False
    ) -> TurnToolChooser:
        """The tool loop's ``ToolChooser`` for one turn: chooses only when more than ``above``
        tools are enabled; ``check``: with the local model's second pass."""
        return TurnToolChooser(self, k, tuple(pinned), above, check)


@dataclass(frozen=True)
class TurnToolChooser:
    """``orchestration.tool_offer.ToolChooser`` over a ``ToolSelector`` and a turn's settings."""

    selector: ToolSelector
    k: int
    pinned: tuple[str, ...]
    above: int
    check: bool = False

    async def choose(
        self, tools: Sequence[McpTool], messages: Sequence[ChatMessage]
    ) -> ToolChoice | None:
        if len(tools) <= max(self.above, self.k):
            return None  # few enough to send them all
        selection = await self.selector.select(
            tools, recent_turns(messages), self.k, self.pinned, self.check
        )
        return ToolChoice(selection.offered, selection.note)

    async def search(
        self, query: str, candidates: Sequence[McpTool], limit: int
    ) -> list[tuple[str, float]]:
        return (await self.selector.rank(candidates, [query]))[:limit]
