"""Cut a parsed document into chunks the embedder reads whole, with where each one comes from.

Sizes are counted in the embedder's own tokens (MiniLM's WordPiece), never in characters: a chunk
holds at most ``chunk_tokens`` of them and never more than the model's 256 with ``[CLS]`` and
``[SEP]``, so nothing is cut off when it is embedded. Text is packed word by word and broken, in
this order of preference, at a paragraph, a sentence or a line end in the chunk's second half;
the next chunk repeats the last ``overlap_tokens`` of the previous one (from a sentence start
when that keeps at least half of them). Chunks never span two pages or two headed sections, so
each has one page, a line range and the nearest heading above it (Markdown ``#``/setext headings,
which is also what the HTML parser writes, and reStructuredText underlined titles).

A chunk's id is a hash of the file's path and the chunk's position, so indexing a file again
rewrites (upserts) the same ids; the store removes the positions a shorter new version no longer
has. Plain blocking code.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from hybridmcp_app.documents.document_models import (
    ChunkProvenance,
    DocumentChunk,
    ParsedDocument,
)
from hybridmcp_app.embeddings.onnx_embedder import MAX_TOKENS

MAX_CHUNK_TOKENS = MAX_TOKENS - 2  # room for [CLS] and [SEP]
HEADING_KINDS = frozenset({"markdown", "html", "rst", "text"})  # not code, CSV, JSON or PDF
_WORD = re.compile(r"\S+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'»”’)\]]*$")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+<>:.])\1+\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# How good a place to end a chunk the gap after a word is.
_NO_BREAK, _LINE, _SENTENCE, _PARAGRAPH = 0, 1, 2, 3

TokenCounter = Callable[[str], int]  # e.g. OnnxEmbedder.count_tokens: no special tokens


def chunk_id(path: Path, position: int) -> str:
    """The stable id of a file's ``position``-th chunk."""
    return hashlib.sha256(f"{path}#{position}".encode()).hexdigest()[:32]


def chunk_document(
    document: ParsedDocument,
    count_tokens: TokenCounter,
    *,
    chunk_tokens: int = 200,
    overlap_tokens: int = 40,
) -> list[DocumentChunk]:
    """The document's chunks in reading order; none for a document without text.

    ``chunk_tokens`` is capped at the model's limit (254 plus the special tokens) and
    ``overlap_tokens`` at half of the chunk size, so that every chunk moves on.
    """
    budget = max(1, min(chunk_tokens, MAX_CHUNK_TOKENS))
    packer = _Packer(_CachedCounter(count_tokens), budget, max(0, min(overlap_tokens, budget // 2)))
    chunks: list[DocumentChunk] = []
    heading = ""
    detect = document.kind in HEADING_KINDS
    for page in document.pages:
        newlines = [match.start() for match in re.finditer("\n", page.text)]
        for start, end, section_heading in _sections(page.text, detect):
            heading = section_heading if section_heading is not None else heading
            for first, last, text, tokens in packer.pack(page.text, start, end):
                provenance = ChunkProvenance(
                    path=document.path,
                    page=page.number,
                    first_line=page.first_line + bisect_right(newlines, first - 1),
                    last_line=page.first_line + bisect_right(newlines, last - 2),
                    heading=heading,
                )
                position = len(chunks)
                chunks.append(
                    DocumentChunk(
                        id=chunk_id(document.path, position),
                        text=text,
                        tokens=tokens,
                        position=position,
                        content_hash=document.content_hash,
                        provenance=provenance,
                    )
                )
    return chunks


class _CachedCounter:
    """Counts tokens of words, remembering them: most words of a document repeat."""

    def __init__(self, count_tokens: TokenCounter) -> None:
        self.count = count_tokens
        self._words: dict[str, int] = {}

    def word(self, text: str) -> int:
        tokens = self._words.get(text)
        if tokens is None:
            tokens = self._words[text] = self.count(text)
        return tokens


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    tokens: int
    score: int  # of the gap after it: _NO_BREAK … _PARAGRAPH


class _Packer:
    def __init__(self, counter: _CachedCounter, budget: int, overlap: int) -> None:
        self.counter, self.budget, self.overlap = counter, budget, overlap

    def pack(self, text: str, start: int, end: int) -> Iterator[tuple[int, int, str, int]]:
        """(first char, end char, text, tokens) of each chunk of ``text[start:end]``."""
        words = self._words(text, start, end)
        sums = [0, *accumulate(word.tokens for word in words)]
        first = 0
        while first < len(words):
            stop = max(bisect_right(sums, sums[first] + self.budget) - 1, first + 1)
            if stop < len(words):
                stop = self._best_break(words, sums, first, stop)
            piece = text[words[first].start : words[stop - 1].end]
            tokens = self.counter.count(piece)
            while tokens > self.budget and stop - first > 1:  # counts of split words don't add
                stop -= 1
                piece = text[words[first].start : words[stop - 1].end]
                tokens = self.counter.count(piece)
            yield words[first].start, words[stop - 1].end, piece, tokens
            if stop >= len(words):
                return
            first = self._overlap_start(words, sums, first, stop)

    def _words(self, text: str, start: int, end: int) -> list[_Word]:
        spans = [match.span() for match in _WORD.finditer(text, start, end)]
        words: list[_Word] = []
        for index, (word_start, word_end) in enumerate(spans):
            if index + 1 < len(spans):
                gap = text[word_end : spans[index + 1][0]]
                if _BLANK_LINE.search(gap):
                    score = _PARAGRAPH
                elif _SENTENCE_END.search(text, word_start, word_end):
                    score = _SENTENCE
                else:
                    score = _LINE if "\n" in gap else _NO_BREAK
            else:
                score = _PARAGRAPH
            tokens = self.counter.word(text[word_start:word_end])
            if tokens <= self.budget:
                words.append(_Word(word_start, word_end, tokens, score))
            else:  # a run without spaces longer than a chunk (minified code, base64…)
                pieces = list(self._split(text, word_start, word_end))
                for piece_index, (piece_start, piece_end, piece_tokens) in enumerate(pieces):
                    last = piece_index == len(pieces) - 1
                    words.append(
                        _Word(piece_start, piece_end, piece_tokens, score if last else _NO_BREAK)
                    )
        return words

    def _split(self, text: str, start: int, end: int) -> Iterator[tuple[int, int, int]]:
        """Pieces of one long word, each at most ``budget`` tokens (binary search on length)."""
        while start < end:
            low, high = start + 1, end
            while low < high:
                middle = (low + high + 1) // 2
                if self.counter.count(text[start:middle]) <= self.budget:
                    low = middle
                else:
                    high = middle - 1
            yield start, low, self.counter.count(text[start:low])
            start = low

    def _best_break(self, words: list[_Word], sums: list[int], first: int, stop: int) -> int:
        """Where to end a full chunk: the best break in its second half, the latest on ties."""
        best, best_score = stop, words[stop - 1].score
        end = stop - 1
        while end > first + 1 and sums[end] - sums[first] > self.budget / 2:
            if words[end - 1].score > best_score:
                best, best_score = end, words[end - 1].score
            end -= 1
        return best

    def _overlap_start(self, words: list[_Word], sums: list[int], first: int, stop: int) -> int:
        """Where the next chunk starts: up to ``overlap`` tokens back, leaving room to move on."""
        if self.overlap == 0:
            return stop
        limit = min(self.overlap, self.budget - words[stop].tokens)
        start = bisect_right(sums, sums[stop] - limit - 1)  # first index with sum(start:stop) ≤
        start = max(start, first + 1)
        for candidate in range(start, stop):  # a sentence start keeping half the overlap or more
            if sums[stop] - sums[candidate] < self.overlap / 2:
                break
            if words[candidate - 1].score >= _SENTENCE:
                return candidate
        return min(start, stop)


def _sections(text: str, detect_headings: bool) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, heading) of the page's parts; the part before the first heading has None."""
    headings = _headings(text) if detect_headings else []
    starts = [0, *(offset for offset, _ in headings), len(text)]
    titles: list[str | None] = [None, *(title for _, title in headings)]
    start = 0
    for index, title in enumerate(titles):
        end = starts[index + 1]
        if index + 1 < len(titles) and not text[starts[index] : end].strip().count("\n"):
            continue  # only a heading line (or nothing): it goes with the next section
        yield start, end, title
        start = end


def _headings(text: str) -> list[tuple[int, str]]:
    """(offset of the heading's line, title) of each heading, outside code fences."""
    found: list[tuple[int, str]] = []
    lines = text.split("\n")
    offsets = [0, *accumulate(len(line) + 1 for line in lines)]
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or not line.strip():
            continue
        if match := _ATX_HEADING.match(line):
            found.append((offsets[index], match.group(1).strip()))
            continue
        underline = lines[index + 1] if index + 1 < len(lines) else ""
        title = line.strip()
        underlined = _SETEXT_UNDERLINE.match(underline) or (
            _RST_UNDERLINE.match(underline) and len(underline.strip()) >= len(title)
        )
        if underlined and not _RST_UNDERLINE.match(line):  # an overline is no title
            found.append((offsets[index], title))
    return found
