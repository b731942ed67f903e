"""What flows through the library: scanned files, parsed documents, chunks with provenance.

Shared by the scanner, the parsers, the chunker, the vector store and the library service.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel

# Bigger files are left out of the scan and refused by the parsers (a 100 MiB PDF is a book of
# scans, not text worth embedding, and its pages would all sit in memory at once).
DEFAULT_MAX_DOCUMENT_BYTES = 100 * 1024 * 1024


class ScannedFile(FrozenModel):
    """A file the scan found, with what decides whether it must be (re)indexed."""

    path: Path  # absolute
    size: int = Field(ge=0)
    mtime_ns: int
    content_hash: str  # sha256 hex of the bytes
    extension: str  # lower case, no dot


class SkippedFile(FrozenModel):
    """A file the scan left out, and why (hidden, ignored, binary, extension, too large…)."""

    path: Path
    reason: str


class ParsedPage(FrozenModel):
    """Text of one page (PDF, XPS, EPUB chapter…) or of the whole file (``number`` None)."""

    number: int | None = Field(None, ge=1)
    text: str
    first_line: int = Field(1, ge=1, description="Line of the file where this text starts.")


class ParsedDocument(FrozenModel):
    """A file's text, page by page, and what the parser learned about it."""

    path: Path
    content_hash: str
    kind: str  # "pdf", "epub", "html", "markdown", "text", "code", …
    title: str = ""
    pages: tuple[ParsedPage, ...] = ()
    page_count: int | None = None
    repaired: bool = Field(False, description="The file was damaged and opened repaired.")
    notes: tuple[str, ...] = Field(
        (), description="What the parser had to work around (encoding guessed, pages unreadable)."
    )


class ChunkProvenance(FrozenModel):
    """Where a chunk comes from, for citations: file, page, lines, the heading above it."""

    path: Path
    page: int | None = None
    first_line: int | None = None
    last_line: int | None = None
    heading: str = ""


class DocumentChunk(FrozenModel):
    """A piece of a document small enough for the embedder (≤ 256 MiniLM tokens)."""

    id: str  # stable: hash of the file's path and the chunk's position, so re-indexing upserts
    text: str
    tokens: int = Field(ge=0)
    position: int = Field(ge=0, description="Index of the chunk within its document.")
    content_hash: str  # of the file the chunk came from
    provenance: ChunkProvenance


class VectorDocument(FrozenModel):
    """A chunk with its embedding, as the vector store keeps it."""

    chunk: DocumentChunk
    embedding: tuple[float, ...]


class FileState(Enum):
    QUEUED = "queued"
    PARSING = "parsing"
    EMBEDDING = "embedding"
    INDEXED = "indexed"
    FAILED = "failed"
    SKIPPED = "skipped"


class FileStatus(FrozenModel):
    """One file's place in the library, as the Library tab and ``library status`` show it."""

    path: Path
    state: FileState
    reason: str = ""  # why it failed or was skipped
    chunks: int = 0
    content_hash: str = ""
    indexed_at: float | None = None


class SearchHit(FrozenModel):
    """A ranked search result: the chunk's text and where it is."""

    chunk_id: str
    text: str
    score: float = Field(description="Cosine similarity, 1 = identical.")
    provenance: ChunkProvenance
