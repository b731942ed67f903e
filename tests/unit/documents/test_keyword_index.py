"""The keyword index (SQLite FTS5, BM25): exact codes and numbers, hostile queries, writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.documents.document_models import ChunkProvenance, DocumentChunk
from hybridmcp_app.documents.keyword_index import (
    KEYWORDS_FILE_NAME,
    TOKENIZER,
    KeywordIndex,
    fts5_available,
    match_expression,
)
from tests.helpers.hostile_queries import HOSTILE

PASSAGES = {
    "pelican-42": "Project PELICAN-42 ships in March.",
    "pelican-24": "Project PELICAN-24 was cancelled.",
    "pelican-420": "Project PELICAN-420 studies seabirds.",
    "section-421": "The penalty is set in section 4.2.1.",
    "section-412": "Section 4.1.2 sets the delivery address.",
    "iso-9001": "We hold ISO-9001 certification.",
    "iso-14001": "ISO-14001 is the environmental standard.",
    "mueller": "Ms Müller signed the order.",
    "x7": "Reactor X7 is offline.",
}
# (query, the passages it must find, in any order)
EXACT = [
    ("PELICAN-42", {"pelican-42"}),
    ("4.2.1", {"section-421"}),
    ("ISO-9001", {"iso-9001"}),
    ("Muller", {"mueller"}),
    ("X7", {"x7"}),
    ("pelican", {"pelican-42", "pelican-24", "pelican-420"}),
]


def chunk(name: str, text: str, *, path: str | None = None, version: str = "v1") -> DocumentChunk:
    file = Path(path or f"/notes/{name}.md")
    return DocumentChunk(
        id=name,
        text=text,
        tokens=len(text.split()),
        position=0,
        content_hash=version,
        provenance=ChunkProvenance(path=file),
    )


@pytest.fixture
def index(tmp_path: Path) -> Iterator[KeywordIndex]:
    opened = KeywordIndex.open(tmp_path)
    opened.upsert([chunk(name, text) for name, text in PASSAGES.items()])
    yield opened
    opened.close()


def found(index: KeywordIndex, query: str, k: int = 20) -> set[str]:
    return {chunk_id for chunk_id, _ in index.search(query, k)}


def test_this_pythons_sqlite_has_fts5_compiled_in() -> None:
    assert fts5_available()


@pytest.mark.parametrize(("query", "expected"), EXACT, ids=[query for query, _ in EXACT])
def test_a_code_number_or_name_finds_its_passage_and_no_look_alike(
    index: KeywordIndex, query: str, expected: set[str]
) -> None:
    assert found(index, query) == expected


def test_the_tokenizers_not_chosen_each_miss_a_code_the_chosen_one_finds() -> None:
    """Why ``unicode61`` with one phrase per word: ``tokenchars '-.'`` keeps a sentence's full
    stop on "4.2.1." and drops parts of codes; ``trigram`` matches PELICAN-420 for PELICAN-42
    and nothing shorter than three characters."""

    def matches(tokenizer: str, query: str) -> set[str]:
        connection = sqlite3.connect(":memory:")
        try:
            connection.execute(
                f'CREATE VIRTUAL TABLE t USING fts5(name, text, tokenize="{tokenizer}")'
            )
            connection.executemany("INSERT INTO t VALUES (?, ?)", PASSAGES.items())
            expression = match_expression(query)
            rows = connection.execute(
                "SELECT name FROM t WHERE t MATCH ?", (f"text:({expression})",)
            )
            return {name for (name,) in rows}
        finally:
            connection.close()

    failures = {
        tokenizer: [query for query, expected in EXACT if matches(tokenizer, query) != expected]
        for tokenizer in (TOKENIZER, f"{TOKENIZER} tokenchars '-.'", "trigram")
    }
    assert failures == {
        TOKENIZER: [],
        f"{TOKENIZER} tokenchars '-.'": ["4.2.1", "pelican"],
        "trigram": ["PELICAN-42", "Muller", "X7"],
    }


@pytest.mark.parametrize("query", HOSTILE)
def test_fts5_syntax_in_a_query_is_searched_as_words_and_never_raises(
    index: KeywordIndex, query: str
) -> None:
    hits = index.search(query, 5)
    assert all(name in PASSAGES for name, _ in hits)


def test_a_query_of_a_quote_and_a_code_finds_the_code(index: KeywordIndex) -> None:
    assert found(index, '"PELICAN-42') == {"pelican-42"}


@pytest.mark.parametrize("query", ["", "   ", "*", "-- ( ) : ^ \" '", "…"])
def test_an_empty_or_punctuation_only_query_finds_nothing(index: KeywordIndex, query: str) -> None:
    assert index.search(query, 5) == []
    assert match_expression(query) is None


def test_the_passage_with_the_rarer_word_ranks_first_with_a_higher_score(
    index: KeywordIndex,
) -> None:
    hits = index.search("when does project PELICAN-42 ship", 3)
    assert hits[0][0] == "pelican-42"
    assert hits[0][1] > hits[1][1] > 0


def test_a_search_among_allowed_ids_finds_only_those(index: KeywordIndex) -> None:
    assert found(index, "pelican") == {"pelican-42", "pelican-24", "pelican-420"}
    assert {name for name, _ in index.search("pelican", 5, {"pelican-24", "x7"})} == {"pelican-24"}
    assert index.search("pelican", 5, set()) == []
    assert index.search("pelican", 0) == []


def test_upserting_an_id_again_replaces_its_text(index: KeywordIndex) -> None:
    index.upsert([chunk("pelican-42", "Project ALBATROSS-7 replaced it.", version="v2")])
    assert found(index, "PELICAN-42") == set()
    assert found(index, "ALBATROSS-7") == {"pelican-42"}
    assert index.count() == len(PASSAGES)
    assert index.versions()["pelican-42"] == "v2"


def test_deleting_by_id_by_file_and_clearing_remove_the_chunks_from_search(
    index: KeywordIndex,
) -> None:
    shared = "/notes/shared.md"
    index.upsert([chunk("a", "alpha one", path=shared), chunk("b", "alpha two", path=shared)])
    assert len(index.ids_for(Path(shared))) == 2
    index.delete_ids(["pelican-42", "not-there"])
    assert found(index, "PELICAN-42") == set()
    index.delete_file(Path(shared))
    assert index.ids_for(Path(shared)) == set()
    assert found(index, "alpha") == set()
    assert index.count() == len(PASSAGES) - 1
    index.clear()
    assert index.count() == 0
    assert found(index, "pelican") == set()


def test_the_index_keeps_its_chunks_across_a_reopen(tmp_path: Path) -> None:
    first = KeywordIndex.open(tmp_path)
    first.upsert([chunk("x7", PASSAGES["x7"])])
    first.close()
    again = KeywordIndex.open(tmp_path)
    try:
        assert found(again, "X7") == {"x7"}
        assert (tmp_path / KEYWORDS_FILE_NAME).is_file()
    finally:
        again.close()


def test_a_damaged_index_file_is_moved_aside_and_started_empty(tmp_path: Path) -> None:
    (tmp_path / KEYWORDS_FILE_NAME).write_bytes(b"not a database, just bytes" * 200)
    index = KeywordIndex.open(tmp_path)
    try:
        assert index.count() == 0
        assert list(tmp_path.glob(f"{KEYWORDS_FILE_NAME}.corrupt-*"))
    finally:
        index.close()
