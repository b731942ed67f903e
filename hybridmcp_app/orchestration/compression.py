"""Question-aware prompt compression (after LongLLMLingua): coarse, then fine.

Coarse: rank the sources' sentences by embedding similarity to the question (plus a little for
sharing its words) and keep the best, in their original order, up to a generous budget.
Fine: the local model scores every token's surprisal; whole words are dropped, least surprising
first, until the budget is met. Numbers, dates, names (capitalised words) and the question's own
words are never dropped: measured here, token-level pruning alone kept 0 of 22 dates and 0 of
24 numbers of a passage, because a model writes one token per digit and digits are predictable.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.core.token_estimate import CHARS_PER_TOKEN, estimate_tokens
from hybridmcp_app.llm.llama_scoring import TokenSurprisal
from hybridmcp_app.orchestration.context_prompt import split_sentences

Embed = Callable[[Sequence[str]], Awaitable[np.ndarray[Any, Any]]]
Score = Callable[[str], Awaitable[list[TokenSurprisal]]]
COARSE_SLACK = 1.4  # coarse keeps this much more than the budget; fine pruning trims the rest
_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "from",
        "as",
        "that",
        "this",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "many",
        "much",
        "does",
        "did",
        "do",
        "it",
        "its",
        "into",
        "than",
    ]
)
_WORD = re.compile(r"[\w'-]+")


def question_terms(question: str) -> set[str]:
    return {
        w.lower() for w in _WORD.findall(question) if len(w) > 2 and w.lower() not in _STOPWORDS
    }


def is_protected(word: str, terms: set[str]) -> bool:
    """Words compression must keep: numbers, names and the question's words."""
    core = word.strip().strip(".,;:!?()[]{}\"'")
    if not core:
        return False
    return any(c.isdigit() for c in core) or core[0].isupper() or core.lower() in terms


@dataclass(frozen=True)
class CompressionResult:
    documents: tuple[ContextDocument, ...]
    original_tokens: int
    kept_tokens: int
    sentences_kept: int
    sentences_total: int
    words_dropped: int


@dataclass
class _Word:
    text: str  # with its leading whitespace
    surprisal: float
    start: int  # offset in the scored text


def _words(pieces: list[TokenSurprisal]) -> list[_Word]:
    words: list[_Word] = []
    offset = 0
    for piece in pieces:
        # A word starts with whitespace; a lone whitespace piece (Gemma writes " " before
        # digits) belongs to the word that follows it.
        starts_word = not words or (piece.text[:1].isspace() and not words[-1].text.isspace())
        if starts_word:
            words.append(_Word(piece.text, piece.surprisal, offset))
        else:
            words[-1].text += piece.text
            words[-1].surprisal = max(words[-1].surprisal, piece.surprisal)
        offset += len(piece.text)
    return words


async def compress_context(
    question: str,
    documents: tuple[ContextDocument, ...],
    *,
    budget_tokens: int,
    embed: Embed,
    score: Score | None,
) -> CompressionResult:
    """Shrink ``documents`` to about ``budget_tokens`` (estimated as the provider counts)."""
    sentences = [(d, s) for d, doc in enumerate(documents) for s in split_sentences(doc.text)]
    original = sum(estimate_tokens(text) for _, text in sentences)
    if not sentences or original <= budget_tokens:
        return CompressionResult(documents, original, original, len(sentences), len(sentences), 0)
    vectors = await embed([question, *(text for _, text in sentences)])
    terms = question_terms(question)
    relevance = vectors[1:] @ vectors[0] + np.array(
        [0.05 * len(terms & question_terms(text)) for _, text in sentences]
    )
    coarse_budget = budget_tokens * (COARSE_SLACK if score is not None else 1.0)
    chosen: list[int] = []
    used = 0
    for index in np.argsort(-relevance):
        cost = estimate_tokens(sentences[int(index)][1])
        if used + cost > coarse_budget and chosen:
            continue
        chosen.append(int(index))
        used += cost
    chosen.sort()
    kept = {index: sentences[index][1] for index in chosen}
    dropped_words = 0
    if score is not None and used > budget_tokens:
        joined, spans, cursor = [], [], 0
        for index in chosen:
            spans.append((index, cursor, cursor + len(kept[index])))
            joined.append(kept[index])
            cursor += len(kept[index]) + 1
        words = _words(await score("\n".join(joined)))
        removable = sorted(
            (w for w in words if not is_protected(w.text, terms)), key=lambda w: w.surprisal
        )
        # Characters, not rounded token estimates: the result must really fit the budget.
        chars_over = sum(len(kept[index]) for index in chosen) - budget_tokens * CHARS_PER_TOKEN
        dropped: set[int] = set()
        for word in removable:
            if chars_over <= 0:
                break
            dropped.add(word.start)
            chars_over -= len(word.text)
        dropped_words = len(dropped)
        for index, start, end in spans:
            text = "".join(
                w.text for w in words if start <= w.start < end and w.start not in dropped
            )
            kept[index] = " ".join(text.split())
    by_document: dict[int, list[str]] = {}
    for index in chosen:
        if kept[index]:
            by_document.setdefault(sentences[index][0], []).append(kept[index])
    compressed = tuple(
        ContextDocument(title=documents[d].title, text=" ".join(parts))
        for d, parts in sorted(by_document.items())
    )
    kept_tokens = sum(estimate_tokens(doc.text) for doc in compressed)
    return CompressionResult(
        compressed, original, kept_tokens, len(chosen), len(sentences), dropped_words
    )
