"""The vector store against real Chroma: embedded in a folder, and a ``chroma run`` server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from pydantic import AnyHttpUrl

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.chroma_store import (
    CHROMA_DIR_NAME,
    EMBEDDING_FUNCTION_NAME,
    ChromaStore,
)
from hybridmcp_app.documents.document_models import ParsedDocument, ParsedPage, VectorDocument
from hybridmcp_app.documents.library_state import LibraryStorageError
from hybridmcp_app.documents.text_chunker import chunk_document
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, TOPICS, essay
from tests.helpers.chroma_server import chroma_server
from tests.helpers.llama_server import free_port

pytestmark = pytest.mark.integration
REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path, embedder: OnnxEmbedder) -> Iterator[ChromaStore]:
    opened = ChromaStore.open(DocumentsSettings(), tmp_path / "data", embedder)
    yield opened
    opened.close()


def vectors(embedder: OnnxEmbedder, path: Path, text: str, digest: str) -> list[VectorDocument]:
    document = ParsedDocument(
        path=path, content_hash=digest, kind="markdown", pages=(ParsedPage(text=text),)
    )
    chunks = chunk_document(document, embedder.count_tokens)
    embeddings = embedder.embed_sync([chunk.text for chunk in chunks])
    return [
        VectorDocument(chunk=chunk, embedding=tuple(vector.tolist()))
        for chunk, vector in zip(chunks, embeddings, strict=True)
    ]


def library(embedder: OnnxEmbedder) -> dict[Path, list[VectorDocument]]:
    notes = {
        Path(f"/notes/{number}.md"): vectors(
            embedder, Path(f"/notes/{number}.md"), essay(topic, number), f"hash-{number}"
        )
        for number, topic in enumerate(TOPICS)
    }
    keeper = Path("/notes/keeper.txt")
    notes[keeper] = vectors(embedder, keeper, f"Lighthouse notes.\n\n{FACT}", "hash-keeper")
    return notes


def test_upserting_the_same_chunks_again_keeps_one_copy_of_each(
    store: ChromaStore, embedder: OnnxEmbedder
) -> None:
    notes = library(embedder)
    everything = [vector for file in notes.values() for vector in file]
    store.upsert(everything)
    store.upsert(everything)
    assert store.count() == len(everything)
    assert store.files() == {path: len(file) for path, file in notes.items()}


def test_a_shorter_new_version_of_a_file_leaves_none_of_the_old_chunks(
    store: ChromaStore, embedder: OnnxEmbedder
) -> None:
    path = Path("/notes/changing.md")
    old = vectors(embedder, path, essay("old version", 1, paragraphs=12), "old")
    store.upsert(old)
    new = vectors(embedder, path, essay("new version", 2, paragraphs=3), "new")
    assert len(new) < len(old)
    store.upsert(new)
    store.delete_stale(path, "new", len(new))
    assert store.chunk_ids(path) == {vector.chunk.id for vector in new}
    hits = store.query(new[0].embedding, k=50)
    assert {hit.text for hit in hits} == {vector.chunk.text for vector in new}


def test_delete_file_removes_only_that_file(store: ChromaStore, embedder: OnnxEmbedder) -> None:
    notes = library(embedder)
    store.upsert([vector for file in notes.values() for vector in file])
    gone = Path("/notes/0.md")
    store.delete_file(gone)
    assert gone not in store.files()
    assert store.count() == sum(len(file) for path, file in notes.items() if path != gone)


def test_search_finds_the_chunk_that_answers_the_question(
    store: ChromaStore, embedder: OnnxEmbedder
) -> None:
    store.upsert([vector for file in library(embedder).values() for vector in file])
    best = store.query(FACT_QUESTION, k=3)[0]
    assert FACT in best.text
    assert best.provenance.path == Path("/notes/keeper.txt")
    assert (best.provenance.first_line, best.provenance.last_line) == (1, 3)
    assert 0.4 < best.score <= 1.0
    assert store.query(embedder.embed_sync([FACT_QUESTION])[0].tolist(), k=1)[0] == best
    only_notes = store.query(FACT_QUESTION, k=3, where={"path": "/notes/2.md"})
    assert {hit.provenance.path for hit in only_notes} == {Path("/notes/2.md")}


def test_every_chunk_is_found_by_its_own_vector_when_writes_and_searches_interleave(
    store: ChromaStore, embedder: OnnxEmbedder
) -> None:
    """Chroma 1.5.9's embedded HNSW loses a record now and then in exactly this pattern
    (chroma-core/chroma#7758); a small library is searched exactly, so none is lost."""
    notes = library(embedder)
    everything = [vector for file in notes.values() for vector in file]
    for start in range(0, len(everything), 8):
        store.upsert(everything[start : start + 8])
        store.query(everything[start].embedding, k=1)  # a search between writes
    assert store.searches_exactly
    for vector in everything:
        best = store.query(vector.embedding, k=1)[0]
        assert (best.chunk_id, best.text) == (vector.chunk.id, vector.chunk.text)
        assert best.score == pytest.approx(1.0, abs=1e-5)
    gone = Path("/notes/0.md")
    store.delete_file(gone)
    hits = store.query(notes[gone][0].embedding, k=len(everything))
    assert len(hits) == len(everything) - len(notes[gone])
    assert gone not in {hit.provenance.path for hit in hits}


def test_a_library_past_the_exact_search_limit_is_searched_with_chromas_index(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    settings = DocumentsSettings(exact_search_limit=10)
    store = ChromaStore.open(settings, tmp_path / "data", embedder)
    try:
        store.upsert([vector for file in library(embedder).values() for vector in file])
        best = store.query(FACT_QUESTION, k=1)[0]
        assert FACT in best.text
        assert not store.searches_exactly
    finally:
        store.close()


def test_another_process_reopens_the_collection_and_searches_offline(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    """Chroma rebuilds the stored embedding function by name: nothing is downloaded (the
    network is cut in that process, and Chroma's model cache stays absent)."""
    data = tmp_path / "data"
    store = ChromaStore.open(DocumentsSettings(), data, embedder)
    store.upsert([vector for file in library(embedder).values() for vector in file])
    store.close()
    home = tmp_path / "home"
    script = f"""
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.getaddrinfo = refuse
import chromadb
from chromadb.config import Settings
import hybridmcp_app.documents.chroma_store  # registers the embedding function with Chroma
settings = Settings(anonymized_telemetry=False)
client = chromadb.PersistentClient({str(data / CHROMA_DIR_NAME)!r}, settings)
collection = client.get_collection("library")  # no embedding function given
result = collection.query(query_texts=[{FACT_QUESTION!r}], n_results=1)
print(json.dumps({{
    "function": collection.configuration_json["embedding_function"],
    "space": collection.configuration_json["hnsw"]["space"],
    "best": result["documents"][0][0],
}}))
"""
    environment = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPOSITORY)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["function"]["name"] == EMBEDDING_FUNCTION_NAME
    assert answer["function"]["config"]["model"] == OnnxEmbedder.model_id
    assert answer["space"] == "cosine"
    assert FACT in answer["best"]
    assert not (home / ".cache" / "chroma").exists()


def test_a_chroma_server_stores_and_searches_like_the_embedded_store(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    notes = library(embedder)
    everything = [vector for file in notes.values() for vector in file]
    with chroma_server(tmp_path / "server") as url:
        settings = DocumentsSettings(
            chroma_mode="http", chroma_url=AnyHttpUrl(url), collection="shared"
        )
        store = ChromaStore.open(settings, tmp_path / "unused", embedder)
        try:
            store.upsert(everything)
            store.upsert(everything)
            assert store.count() == len(everything)
            assert FACT in store.query(FACT_QUESTION, k=1)[0].text
        finally:
            store.close()
        again = ChromaStore.open(settings, tmp_path / "unused", embedder)  # a new client
        try:
            assert again.files() == {path: len(file) for path, file in notes.items()}
        finally:
            again.close()
    assert not (tmp_path / "unused" / CHROMA_DIR_NAME).exists()


def test_a_server_store_searches_exactly_and_sees_what_another_client_wrote(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    """A Chroma server runs the same HNSW that loses records (chroma-core/chroma#7758), so a
    small library on a server is searched exactly too; another client's writes and deletes
    reach that search at once."""
    notes = library(embedder)
    keeper = Path("/notes/keeper.txt")
    with chroma_server(tmp_path / "server") as url:
        settings = DocumentsSettings(chroma_mode="http", chroma_url=AnyHttpUrl(url))
        searcher = ChromaStore.open(settings, tmp_path / "unused", embedder)
        writer = ChromaStore.open(settings, tmp_path / "unused", embedder)
        try:
            searcher.upsert(
                [vector for path, file in notes.items() if path != keeper for vector in file]
            )
            assert FACT not in searcher.query(FACT_QUESTION, k=1)[0].text
            assert searcher.searches_exactly
            writer.upsert(notes[keeper])
            best = searcher.query(FACT_QUESTION, k=1)[0]
            assert (FACT in best.text, best.provenance.path) == (True, keeper)
            writer.delete_file(keeper)
            assert keeper not in {
                hit.provenance.path for hit in searcher.query(FACT_QUESTION, k=50)
            }
            assert searcher.searches_exactly
        finally:
            writer.close()
            searcher.close()


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path, embedder: OnnxEmbedder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = DocumentsSettings(chroma_mode="http", chroma_url=AnyHttpUrl(url))
    with pytest.raises(LibraryStorageError, match="opening the library") as raised:
        ChromaStore.open(settings, tmp_path, embedder)
    assert "127.0.0.1" in str(raised.value)


def test_a_collection_made_for_another_distance_is_refused(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    import chromadb
    from chromadb.api.client import Client
    from chromadb.config import Settings

    path, settings = tmp_path / "data" / CHROMA_DIR_NAME, Settings(anonymized_telemetry=False)
    client = cast(Client, chromadb.PersistentClient(path, settings))
    client.create_collection(
        "library", configuration={"hnsw": {"space": "l2"}}, embedding_function=None
    )
    client.close()
    with pytest.raises(LibraryStorageError, match="measures l2 distance"):
        ChromaStore.open(DocumentsSettings(), tmp_path / "data", embedder)
