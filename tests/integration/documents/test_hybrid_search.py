"""Hybrid search over real Chroma, the real embedder and the keyword index kept beside it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.chroma_store import ChromaStore
from hybridmcp_app.documents.document_models import (
    ChunkProvenance,
    DocumentChunk,
    SearchHit,
    VectorDocument,
)
from hybridmcp_app.documents.keyword_index import KEYWORDS_FILE_NAME
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.documents.library_state import LibraryStorageError
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from tests.helpers.hostile_queries import HOSTILE

pytestmark = pytest.mark.integration

# One short note per file. MiniLM hears "PELICAN-42" in every PELICAN-nn note, and the one
# that holds it is the longest and most about other things: vector search ranks it low.
NOTES = {
    "crane.md": "The harbour crane order, reference PELICAN-42, ships in March once customs "
    "have inspected the counterweights and cable drums.",
    "survey.md": "PELICAN-24 is the code of the cancelled lighthouse survey.",
    "roof.md": "PELICAN-44 is the code of the warehouse roof repair.",
    "lights.md": "PELICAN-12 is the code of the dock lighting upgrade.",
    "mast.md": "PELICAN-4 is the code of the radio mast replacement.",
    "ferry.md": "PELICAN-2 is the code of the ferry timetable change.",
    "register.md": "Pelican codes are listed in the harbour register by number.",
    "manual.md": "The quality manual follows ISO-14001 for the environment and section 4.1.2 "
    "for audits.",
    "supplier.md": "Our supplier is certified under ISO-9001 since 2019, see the contract annex "
    "for the audit dates and the names of the auditors.",
    "standards.md": "ISO-9000 and ISO-9002 describe older quality standards.",
    "penalty.md": "Clause 4.2.1 of the contract sets the penalty for late delivery of the "
    "cranes, payable monthly.",
    "address.md": "Clause 4.1.2 of the contract sets the delivery address.",
    "currency.md": "Clause 2.4.1 of the contract sets the currency of payment.",
}
EXACT = {"PELICAN-42": "crane.md", "ISO-9001": "supplier.md", "4.2.1": "penalty.md"}


def write_notes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in NOTES.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder


def names(hits: list[SearchHit]) -> list[str]:
    return [hit.provenance.path.name for hit in hits]


def assert_in_step(store: ChromaStore) -> None:
    """The keyword index holds exactly Chroma's chunks, file by file."""
    files = store.files()
    for path in files:
        assert store.keywords.ids_for(path) == store.chunk_ids(path), path
    assert store.keywords.count() == store.count() == sum(files.values())


async def test_an_exact_code_or_number_that_vector_search_ranks_low_comes_first_in_hybrid(
    tmp_path: Path, library: LibraryService
) -> None:
    await library.add([write_notes(tmp_path / "notes")])
    for query, answer in EXACT.items():
        by_meaning = names(await library.search(query, k=len(NOTES)))
        assert by_meaning.index(answer) >= 2, (query, by_meaning)
        assert names(await library.search(query, k=3, mode="keyword"))[0] == answer, query
        hybrid = await library.search(query, k=3, mode="hybrid")
        assert names(hybrid)[0] == answer, (query, names(hybrid))
        assert query in hybrid[0].text
        assert hybrid[0].score > hybrid[1].score


async def test_hybrid_and_keyword_search_keep_to_a_filter_by_file(
    tmp_path: Path, library: LibraryService
) -> None:
    notes = write_notes(tmp_path / "notes")
    await library.add([notes])
    where = {"path": str(notes / "survey.md")}
    assert await library.search("PELICAN-42", k=5, where=where, mode="keyword") == []
    hybrid = await library.search("PELICAN-42", k=5, where=where, mode="hybrid")
    assert names(hybrid) == ["survey.md"]  # by meaning only: its words do not match
    where = {"path": str(notes / "crane.md")}
    assert names(await library.search("PELICAN-42", k=5, where=where, mode="keyword")) == [
        "crane.md"
    ]
    assert await library.search("PELICAN-99", k=5, mode="keyword") == []


async def test_a_hostile_query_never_raises_in_keyword_or_hybrid_search(
    tmp_path: Path, library: LibraryService
) -> None:
    await library.add([write_notes(tmp_path / "notes")])
    for query in [*HOSTILE, "", "   "]:
        for mode in ("keyword", "hybrid"):
            hits = await library.search(query, k=3, mode=mode)
            assert all(hit.provenance.path.name in NOTES for hit in hits), (query, mode)


async def test_an_unknown_search_mode_is_refused_with_the_modes_there_are(
    library: LibraryService,
) -> None:
    with pytest.raises(ValueError, match="vector, keyword, hybrid"):
        await library.search("PELICAN-42", mode="fuzzy")  # type: ignore[arg-type]


async def test_the_keyword_index_agrees_with_chroma_after_add_edit_delete_and_clear(
    tmp_path: Path, library: LibraryService
) -> None:
    notes = write_notes(tmp_path / "notes")
    long_note = notes / "long.md"
    long_note.write_text(
        "\n\n".join(f"Paragraph {n}: the ALBATROSS-{n} buoy logs tides." * 6 for n in range(40)),
        encoding="utf-8",
    )
    await library.add([notes])
    store = library.store
    assert len(store.chunk_ids(long_note)) > 3
    await asyncio.to_thread(assert_in_step, store)

    long_note.write_text("Only the KESTREL-9 buoy is left.\n", encoding="utf-8")  # shorter
    (notes / "crane.md").write_text("The crane order moved to PELICAN-43.\n", encoding="utf-8")
    await library.add([notes])
    await asyncio.to_thread(assert_in_step, store)
    assert names(await library.search("ALBATROSS-7", k=3, mode="keyword")) == []
    assert names(await library.search("KESTREL-9", k=3, mode="keyword")) == ["long.md"]
    assert names(await library.search("PELICAN-42", k=3, mode="keyword")) == []
    assert names(await library.search("PELICAN-43", k=3, mode="keyword")) == ["crane.md"]

    (notes / "supplier.md").unlink()
    await library.add([notes])
    await asyncio.to_thread(assert_in_step, store)
    assert names(await library.search("ISO-9001", k=3, mode="keyword")) == []
    await library.remove([notes / "penalty.md"])
    await asyncio.to_thread(assert_in_step, store)
    assert names(await library.search("4.2.1", k=3, mode="keyword")) == []

    await asyncio.to_thread(store.clear)
    await asyncio.to_thread(assert_in_step, store)
    assert store.keywords.count() == 0


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def note(embedder: OnnxEmbedder, name: str, texts: list[str], version: str) -> list[VectorDocument]:
    path = Path(f"/notes/{name}")
    embeddings = embedder.embed_sync(texts)
    return [
        VectorDocument(
            chunk=DocumentChunk(
                id=f"{name}#{position}",
                text=text,
                tokens=len(text.split()),
                position=position,
                content_hash=version,
                provenance=ChunkProvenance(path=path),
            ),
            embedding=tuple(vector.tolist()),
        )
        for position, (text, vector) in enumerate(zip(texts, embeddings, strict=True))
    ]


def keyword_names(store: ChromaStore, query: str) -> list[str]:
    return [hit.chunk_id for hit in store.keyword_query(query, 10)]


def test_a_crash_between_the_chroma_write_and_the_keyword_write_heals_when_the_store_opens(
    data: Path, embedder: OnnxEmbedder
) -> None:
    store = ChromaStore.open(DocumentsSettings(), data, embedder)
    try:
        store.upsert(note(embedder, "kept.md", ["The HERON-5 gate is open."], "v1"))
        store.upsert(note(embedder, "edited.md", ["Berth OSPREY-1 is free."], "v1"))
        store.upsert(note(embedder, "gone.md", ["The CORMORANT-3 crane is idle."], "v1"))
        store.keywords.close()  # every keyword write now fails after Chroma's has happened
        for write in (
            lambda: store.upsert(note(embedder, "new.md", ["The GANNET-8 pier opens."], "v1")),
            lambda: store.upsert(note(embedder, "edited.md", ["Berth OSPREY-2 is free."], "v2")),
            lambda: store.delete_file(Path("/notes/gone.md")),
        ):
            with pytest.raises(LibraryStorageError):
                write()
        assert store.chunk_ids(Path("/notes/new.md")) == {"new.md#0"}
        assert store.chunk_ids(Path("/notes/gone.md")) == set()
    finally:
        store.close()

    again = ChromaStore.open(DocumentsSettings(), data, embedder)
    try:
        assert_in_step(again)
        assert keyword_names(again, "GANNET-8") == ["new.md#0"]
        assert keyword_names(again, "OSPREY-2") == ["edited.md#0"]
        assert keyword_names(again, "OSPREY-1") == []
        assert keyword_names(again, "CORMORANT-3") == []
        assert keyword_names(again, "HERON-5") == ["kept.md#0"]
        assert again.reconcile() == 0  # in step: nothing more to do
    finally:
        again.close()


def test_a_lost_keyword_file_is_rebuilt_from_chroma_when_the_store_opens(
    data: Path, embedder: OnnxEmbedder
) -> None:
    store = ChromaStore.open(DocumentsSettings(), data, embedder)
    try:
        texts = [f"Buoy PETREL-{n} logs the tide." for n in range(30)]
        store.upsert(note(embedder, "buoys.md", texts, "v1"))
    finally:
        store.close()
    for path in data.glob(f"{KEYWORDS_FILE_NAME}*"):
        path.unlink()
    again = ChromaStore.open(DocumentsSettings(), data, embedder)
    try:
        assert_in_step(again)
        assert keyword_names(again, "PETREL-17") == ["buoys.md#17"]
    finally:
        again.close()
