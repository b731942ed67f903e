"""The library's vectors in Chroma: embedded in the data dir, or on a Chroma server.

``DocumentsSettings.chroma_mode`` picks ``PersistentClient(data_dir/"chroma")`` (the default) or
``HttpClient`` to ``chroma_url`` (``chroma run --path DIR``: the scale-out path); the rest of
the code is the same for both. The collection measures cosine distance and is always opened with
``OnnxEmbeddingFunction`` (``chroma_embedding``): a collection opened without one would fall back
to Chroma's default embedder, which downloads a model on first use (and fails offline).
Telemetry is off.

A store of up to ``exact_search_limit`` chunks is searched exactly, over vectors it keeps in
memory (``ExactIndex``: Chroma's HNSW can lose records, see there, and a Chroma server runs the
same index). The store is the only writer of an embedded collection (``library_lock``), so the
copy stays true; a server's collection may have other writers, so before each search the copy
is reloaded when the server's count of chunks differs from it.

Every write is followed, in the same call, by the same write to the keyword index
(``KeywordIndex``, same chunk ids); opening the store reconciles the two (``reconcile``), so
a kill between the writes heals. ``hybrid_query`` fuses both rankings (``rank_fusion``).

Every failure of Chroma or its disk becomes a ``LibraryStorageError`` that says what to do
(a full disk is recognised by its error or by the free space left next to the database).
Blocking calls; the library service runs them off the event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import chromadb
import httpx
import numpy as np
from chromadb.api.types import EmbeddingFunction
from chromadb.config import Settings as ChromaSettings

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.chroma_embedding import (
    EMBEDDING_FUNCTION_NAME,
    OnnxEmbeddingFunction,
)
from hybridmcp_app.documents.document_models import (
    ChunkProvenance,
    DocumentChunk,
    SearchHit,
    VectorDocument,
)
from hybridmcp_app.documents.exact_index import ExactIndex
from hybridmcp_app.documents.keyword_index import KeywordIndex
from hybridmcp_app.documents.library_state import LibraryStorageError, describe_storage_error
from hybridmcp_app.documents.rank_fusion import fuse
from hybridmcp_app.embeddings.onnx_embedder import DIMENSIONS, OnnxEmbedder

if TYPE_CHECKING:
    from chromadb.api.client import Client
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Embeddable, GetResult
    from chromadb.base_types import Metadata, Where

log = logging.getLogger("hybridmcp.documents.chroma")
CHROMA_DIR_NAME = "chroma"
_PAGE = 2000  # records per get() when listing the whole collection
CANDIDATES = 50  # chunks each ranking offers a hybrid search, at least
__all__ = ["CHROMA_DIR_NAME", "EMBEDDING_FUNCTION_NAME", "ChromaStore", "OnnxEmbeddingFunction"]


class ChromaStore:
    """One Chroma collection of chunks; ids are the chunks' stable ids."""

    def __init__(
        self,
        client: Client,
        collection: Collection,
        location: str,
        local: Path | None,
        keywords: KeywordIndex,
        exact_limit: int = 0,
        embedding: OnnxEmbeddingFunction | None = None,
    ) -> None:
        self._client = client
        self.keywords = keywords  # the same chunks, for keyword search; written after Chroma
        self._collection = collection
        self.location = location  # a folder or a URL, for messages
        self._local = local  # the folder of an embedded store
        self._exact_limit = exact_limit
        self._exact: ExactIndex | None = None  # loaded at the first search, then kept in step
        self._too_big = False  # past the limit when last counted (only a delete shrinks it)
        self._exact_lock = threading.Lock()
        self._embedding = embedding  # embeds text queries searched exactly

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return _storage_errors(action, self.location, self._local)

    @classmethod
    def open(
        cls, settings: DocumentsSettings, data_dir: Path, embedder: OnnxEmbedder
    ) -> ChromaStore:
        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        url = settings.chroma_url if settings.chroma_mode == "http" else None
        local = None if url is not None else data_dir / CHROMA_DIR_NAME
        location = str(local or url)
        with _storage_errors("opening the library", location, local):
            client: Client
            if url is not None:
                https = url.scheme == "https"
                client = cast(  # a Client (its declared type, ClientAPI, lacks close())
                    "Client",
                    chromadb.HttpClient(
                        host=url.host or "127.0.0.1",
                        port=url.port or (443 if https else 80),
                        ssl=https,
                        settings=chroma_settings,
                    ),
                )
            else:
                assert local is not None
                local.mkdir(parents=True, exist_ok=True)
                client = cast(
                    "Client", chromadb.PersistentClient(path=local, settings=chroma_settings)
                )
            embedding = OnnxEmbeddingFunction(embedder)
            try:
                collection = client.get_or_create_collection(
                    settings.collection,
                    embedding_function=cast("EmbeddingFunction[Embeddable]", embedding),
                    configuration={"hnsw": {"space": "cosine"}},
                )
                space = (collection.configuration_json.get("hnsw") or {}).get("space")
                if space not in (None, "cosine"):
                    raise LibraryStorageError(
                        f"the collection {settings.collection!r} at {location} measures {space} "
                        "distance, not cosine: choose another collection name in the settings"
                    )
                keywords = KeywordIndex.open(data_dir)
            except BaseException:
                _close(client)
                raise
        log.info("library store: collection %r at %s", settings.collection, location)
        store = cls(
            client, collection, location, local, keywords, settings.exact_search_limit, embedding
        )
        try:
            store.reconcile()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        try:
            _close(self._client)
        finally:
            self.keywords.close()

    # ---------------------------------------------------------------- writing

    def upsert(self, vectors: Sequence[VectorDocument]) -> None:
        if not vectors:
            return
        with self._errors("storing chunks"):
            self._collection.upsert(
                ids=[vector.chunk.id for vector in vectors],
                embeddings=np.asarray([vector.embedding for vector in vectors], dtype=np.float32),
                documents=[vector.chunk.text for vector in vectors],
                metadatas=[_metadata(vector) for vector in vectors],
            )
        self._mirror(
            lambda exact: exact.upsert(
                [vector.chunk.id for vector in vectors], [vector.embedding for vector in vectors]
            )
        )
        with self._errors("storing chunks for keyword search"):
            self.keywords.upsert([vector.chunk for vector in vectors])

    def delete_file(self, path: Path) -> None:
        """Delete every chunk of ``path``."""
        self._delete({"path": str(path)}, f"removing {path.name}")

    def delete_stale(self, path: Path, content_hash: str, chunks: int) -> None:
        """Delete the chunks of ``path`` its current version (``chunks`` long) does not have."""
        stale = [{"content_hash": {"$ne": content_hash}}, {"position": {"$gte": chunks}}]
        where = cast("Where", {"$and": [{"path": str(path)}, {"$or": stale}]})
        self._delete(where, f"removing old chunks of {path.name}")

    def _delete(self, where: Where, action: str) -> None:
        """Delete by ids found first: the exact index learns which, and nothing found means
        no write at all (most files have nothing stale)."""
        with self._errors(action):
            ids = self._collection.get(where=where, include=[])["ids"]
            if ids:
                self._collection.delete(ids=ids)
        if ids:
            self._mirror(lambda exact: exact.delete(ids))
            self._too_big = False
            with self._errors(action):
                self.keywords.delete_ids(ids)

    def reconcile(self) -> int:
        """Bring the keyword index in step with Chroma, which is written first: chunks Chroma
        holds that the index lacks (or holds from another version of their file) are added
        from Chroma's texts, chunks only the index holds are dropped. This heals a kill
        between the two writes, or a keyword file lost; returns how many chunks changed."""
        action = "bringing the keyword index in step"
        with self._errors(action):
            indexed = self.keywords.versions()
        stored: dict[str, str] = {}
        for page in self._pages(["metadatas"], action):
            for chunk_id, metadata in zip(page["ids"], page["metadatas"] or [], strict=True):
                stored[chunk_id] = str(metadata["content_hash"])
        extra = [chunk_id for chunk_id in indexed if chunk_id not in stored]
        missing = [
            chunk_id for chunk_id, version in stored.items() if indexed.get(chunk_id) != version
        ]
        with self._errors(action):
            self.keywords.delete_ids(extra)
            for start in range(0, len(missing), _PAGE):
                found = self._collection.get(
                    ids=missing[start : start + _PAGE], include=_GET_FIELDS
                )
                self.keywords.upsert(
                    [
                        _chunk(chunk_id, text, metadata)
                        for chunk_id, text, metadata in zip(
                            found["ids"],
                            found["documents"] or [],
                            found["metadatas"] or [],
                            strict=True,
                        )
                    ]
                )
        if extra or missing:
            log.warning("keyword index: %d chunks added, %d dropped", len(missing), len(extra))
        return len(extra) + len(missing)

    def _mirror(self, change: Callable[[ExactIndex], None]) -> None:
        """Apply a write to the exact index; one that outgrows its limit is let go."""
        with self._exact_lock:
            if self._exact is None:
                return
            change(self._exact)
            if len(self._exact) > self._exact_limit:
                log.info("library past %d chunks: searched with Chroma's HNSW", self._exact_limit)
                self._exact, self._too_big = None, True

    # ---------------------------------------------------------------- reading

    def query(
        self, query: str | Sequence[float], k: int = 8, where: Where | None = None
    ) -> list[SearchHit]:
        """The ``k`` chunks closest to ``query`` (text is embedded with the offline embedder)."""
        exact = self._exact_index()
        if exact is not None:
            if isinstance(query, str):
                if self._embedding is None:
                    raise LibraryStorageError("this store cannot embed text: search with a vector")
                vector: Sequence[float] = self._embedding([query])[0].tolist()
            else:
                vector = query
            return self._exact_query(exact, vector, k, where)
        with self._errors("searching"):
            if isinstance(query, str):
                result = self._collection.query(
                    query_texts=[query], n_results=k, where=where, include=_QUERY_FIELDS
                )
            else:
                result = self._collection.query(
                    query_embeddings=np.asarray([query], dtype=np.float32),
                    n_results=k,
                    where=where,
                    include=_QUERY_FIELDS,
                )
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            SearchHit(
                chunk_id=chunk_id,
                text=document or "",
                score=1.0 - float(distance),
                provenance=_provenance(metadata),
            )
            for chunk_id, document, metadata, distance in zip(
                ids, documents, metadatas, distances, strict=True
            )
        ]

    def _exact_index(self) -> ExactIndex | None:
        """The exact index, loaded from the collection at first use; None past the limit."""
        with self._exact_lock:
            if self._exact is not None and self._local is None and self.count() != len(self._exact):
                self._exact = None  # another writer changed the server's collection
            if self._exact is None and self._exact_limit and not self._too_big:
                if self.count() > self._exact_limit:
                    self._too_big = True
                    return None
                exact = ExactIndex(DIMENSIONS)
                for page in self._pages(["embeddings"], "loading the library for searching"):
                    exact.upsert(page["ids"], _embeddings(page))
                self._exact = exact
            return self._exact

    @property
    def searches_exactly(self) -> bool:
        """Whether the last search ranked every chunk exactly (a small embedded library)."""
        return self._exact is not None

    def _exact_query(
        self, exact: ExactIndex, query: Sequence[float], k: int, where: Where | None
    ) -> list[SearchHit]:
        allowed = None if where is None else self._ids_where(where)
        return self._hits(exact.top(query, k, allowed))

    def _ids_where(self, where: Where) -> list[str]:
        with self._errors("searching"):
            return self._collection.get(where=where, include=[])["ids"]

    def _hits(self, ranked: Sequence[tuple[str, float]]) -> list[SearchHit]:
        """Ranked ids with their texts and provenance; an id Chroma no longer has is left out."""
        if not ranked:
            return []
        with self._errors("searching"):
            found = self._collection.get(
                ids=[chunk_id for chunk_id, _ in ranked], include=_GET_FIELDS
            )
        records = {
            chunk_id: (document, metadata)
            for chunk_id, document, metadata in zip(
                found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True
            )
        }
        return [
            SearchHit(
                chunk_id=chunk_id,
                text=records[chunk_id][0] or "",
                score=score,
                provenance=_provenance(records[chunk_id][1]),
            )
            for chunk_id, score in ranked
            if chunk_id in records
        ]

    def keyword_query(self, text: str, k: int = 8, where: Where | None = None) -> list[SearchHit]:
        """The ``k`` chunks that match the words of ``text`` best by BM25 (the hits' score)."""
        allowed = None if where is None else self._ids_where(where)
        with self._errors("searching by keyword"):
            ranked = self.keywords.search(text, k, allowed)
        return self._hits(ranked)

    def hybrid_query(
        self, text: str, vector: Sequence[float], k: int = 8, where: Where | None = None
    ) -> list[SearchHit]:
        """The ``k`` best chunks of the vector and the keyword rankings (``vector`` is
        ``text`` embedded) fused by reciprocal rank fusion, whose score the hits carry."""
        depth = max(k, CANDIDATES)
        allowed = None if where is None else self._ids_where(where)
        by_meaning = [hit.chunk_id for hit in self.query(vector, depth, where)]
        with self._errors("searching by keyword"):
            by_words = [chunk_id for chunk_id, _ in self.keywords.search(text, depth, allowed)]
        return self._hits(fuse([by_meaning, by_words], k))

    def count(self) -> int:
        with self._errors("counting chunks"):
            return self._collection.count()

    def chunk_ids(self, path: Path) -> set[str]:
        with self._errors(f"listing the chunks of {path.name}"):
            return set(self._collection.get(where={"path": str(path)}, include=[])["ids"])

    def _pages(self, include: Any, action: str, page: int = _PAGE) -> Iterator[GetResult]:
        """The whole collection, ``page`` records at a time."""
        offset = 0
        while True:
            with self._errors(action):
                batch = self._collection.get(include=include, limit=page, offset=offset)
            yield batch
            if len(batch["ids"]) < page:
                return
            offset += page

    def export_vectors(self, page: int = _PAGE) -> Iterator[list[VectorDocument]]:
        """Every chunk with its embedding, ``page`` at a time (for a backup)."""
        include = ["documents", "metadatas", "embeddings"]
        for batch in self._pages(include, "reading chunks for a backup", page):
            ids, texts = batch["ids"], batch["documents"] or []
            metadatas, embeddings = batch["metadatas"] or [], _embeddings(batch)
            yield [
                VectorDocument(
                    chunk=_chunk(chunk_id, text, metadata),
                    embedding=tuple(float(value) for value in vector),
                )
                for chunk_id, text, metadata, vector in zip(
                    ids, texts, metadatas, embeddings, strict=True
                )
            ]

    def clear(self) -> None:
        """Delete every chunk (a restore starts from nothing)."""
        with self._errors("emptying the library"):
            while ids := self._collection.get(include=[], limit=_PAGE)["ids"]:
                self._collection.delete(ids=ids)
        self._mirror(ExactIndex.clear)
        self._too_big = False
        with self._errors("emptying the library"):
            self.keywords.clear()

    def files(self) -> dict[Path, int]:
        """Every file in the collection with its number of chunks."""
        counts: dict[Path, int] = {}
        for page in self._pages(["metadatas"], "listing files"):
            for metadata in page["metadatas"] or []:
                path = Path(str(metadata["path"]))
                counts[path] = counts.get(path, 0) + 1
        return counts


_QUERY_FIELDS: Any = ["documents", "metadatas", "distances"]
_GET_FIELDS: Any = ["documents", "metadatas"]


def _embeddings(page: GetResult) -> Any:
    embeddings = page["embeddings"]
    return [] if embeddings is None else embeddings


def _close(client: Client) -> None:
    # Chroma 1.5's HTTP client and its admin client each keep an httpx session that
    # Client.close() leaves open (a ResourceWarning per connection).
    for owner in (client, getattr(client, "_admin_client", None)):
        session = getattr(getattr(owner, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):
            session.close()
    client.close()


def _metadata(vector: VectorDocument) -> Metadata:
    chunk = vector.chunk
    provenance = chunk.provenance
    metadata: dict[str, str | int] = {
        "path": str(provenance.path),
        "position": chunk.position,
        "content_hash": chunk.content_hash,
        "heading": provenance.heading,
        "tokens": chunk.tokens,
    }
    for key, value in (
        ("page", provenance.page),
        ("first_line", provenance.first_line),
        ("last_line", provenance.last_line),
    ):
        if value is not None:  # Chroma stores no None
            metadata[key] = value
    return metadata


def _chunk(chunk_id: str, text: str | None, metadata: Any) -> DocumentChunk:
    return DocumentChunk(
        id=chunk_id,
        text=text or "",
        tokens=int(cast("int", metadata.get("tokens", 0))),
        position=int(cast("int", metadata["position"])),
        content_hash=str(metadata["content_hash"]),
        provenance=_provenance(metadata),
    )


def _provenance(metadata: Any) -> ChunkProvenance:
    def number(key: str) -> int | None:
        value = metadata.get(key)
        return int(value) if value is not None else None

    return ChunkProvenance(
        path=Path(str(metadata["path"])),
        page=number("page"),
        first_line=number("first_line"),
        last_line=number("last_line"),
        heading=str(metadata.get("heading", "")),
    )


@contextmanager
def _storage_errors(action: str, location: str, local: Path | None) -> Iterator[None]:
    try:
        yield
    except LibraryStorageError:
        raise
    except Exception as error:  # Chroma raises ChromaError, bare Exception (HTTP), OSError…
        log.warning("library storage failed while %s: %r", action, error)
        message = describe_storage_error(action, location, error, local=local)
        raise LibraryStorageError(message) from error
