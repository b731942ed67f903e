"""Back up the library to one file and restore it, embedded Chroma or a server alike.

A backup is a zip: ``manifest.json`` (format, embedder, chunking signature, counts),
``ledger.jsonl`` (one row per file), and the chunks in parts of ``PART`` —
``chunks/NNNNN.jsonl`` (id, text, metadata) with ``chunks/NNNNN.npy`` (their float32
embeddings). It is read back through the store's own API, so it moves a library between
machines, between embedded and server mode, or across Chroma versions, without re-embedding.

A restore first saves the library as it is to ``data_dir/backups/before-restore-*.zip`` (so it
can be undone), then empties the store and the ledger and loads the backup. A backup made with
another embedder is refused: its vectors would not match the queries.

Both are handed the pieces they touch (``LibraryContents``), not the ``LibraryService`` that owns
them (it calls them while no run goes on).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.documents.document_models import ChunkProvenance, DocumentChunk, VectorDocument

if TYPE_CHECKING:
    from hybridmcp_app.documents.chroma_store import ChromaStore
    from hybridmcp_app.documents.library_state import LibraryState

FORMAT = "hybridmcp-library-backup/1"
PART = 2000
BACKUP_SUFFIX = ".hmlib.zip"


class BackupError(HybridMCPError):
    """A backup could not be written, or a file is not a backup this library can restore."""


@dataclass(frozen=True)
class LibraryContents:
    """What a backup reads and a restore replaces (the store and the ledger), what they were
    made with (the embedder, the chunking signature), and where a restore saves the library
    as it was."""

    store: ChromaStore
    state: LibraryState
    embedder: str  # the embedder's model id
    signature: str
    backups_dir: Path


class BackupSummary(FrozenModel):
    path: Path
    files: int
    chunks: int
    created_at: float
    embedder: str
    signature: str


def write_backup(
    library: LibraryContents, destination: Path, progress: Callable[[int], None] | None = None
) -> BackupSummary:
    """Write the whole library to ``destination`` (blocking). ``progress`` gets chunks written."""
    rows = library.state.export_rows()
    temporary = destination.with_name(destination.name + ".part")
    chunks = 0
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("ledger.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
            for number, part in enumerate(library.store.export_vectors(PART)):
                if not part:
                    continue
                archive.writestr(f"chunks/{number:05}.jsonl", _chunk_lines(part))
                vectors = np.asarray([vector.embedding for vector in part], dtype=np.float32)
                buffer = io.BytesIO()
                np.save(buffer, vectors, allow_pickle=False)
                archive.writestr(f"chunks/{number:05}.npy", buffer.getvalue())
                chunks += len(part)
                if progress is not None:
                    progress(chunks)
            summary = BackupSummary(
                path=destination, files=len(rows), chunks=chunks, created_at=time.time(),
                embedder=library.embedder, signature=library.signature,
            )  # fmt: skip
            manifest = {"format": FORMAT, **summary.model_dump(mode="json", exclude={"path"})}
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        temporary.replace(destination)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BackupError(f"could not write the backup {destination}: {error.strerror}") from None
    return summary


def _chunk_lines(part: list[VectorDocument]) -> str:
    lines = []
    for vector in part:
        chunk = vector.chunk
        record = chunk.model_dump(mode="json", include={"id", "text", "tokens", "position"})
        record["content_hash"] = chunk.content_hash
        record["provenance"] = chunk.provenance.model_dump(mode="json")
        lines.append(json.dumps(record) + "\n")
    return "".join(lines)


def read_manifest(source: Path) -> BackupSummary:
    """What a backup holds; raises ``BackupError`` if ``source`` is not a readable backup."""
    try:
        with zipfile.ZipFile(source) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except FileNotFoundError:
        raise BackupError(f"{source} does not exist") from None
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise BackupError(f"{source} is not a library backup ({error})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a library backup this version can read")
    try:
        return BackupSummary(path=source, **{k: v for k, v in manifest.items() if k != "format"})
    except ValueError as error:
        raise BackupError(f"{source} has a damaged manifest: {error}") from None


def _parts(archive: zipfile.ZipFile) -> Iterator[list[VectorDocument]]:
    names = sorted(name for name in archive.namelist() if name.endswith(".jsonl"))
    for name in names:
        if not name.startswith("chunks/"):
            continue
        records = [json.loads(line) for line in archive.read(name).splitlines() if line.strip()]
        vectors = np.load(io.BytesIO(archive.read(name[: -len(".jsonl")] + ".npy")))
        if len(vectors) != len(records):
            raise BackupError(f"{name} and its embeddings do not match")
        yield [
            VectorDocument(
                chunk=DocumentChunk(
                    id=record["id"], text=record["text"], tokens=record["tokens"],
                    position=record["position"], content_hash=record["content_hash"],
                    provenance=ChunkProvenance(**record["provenance"]),
                ),
                embedding=tuple(vector.tolist()),
            )
            for record, vector in zip(records, vectors, strict=True)
        ]  # fmt: skip


def restore_backup(
    library: LibraryContents, source: Path, progress: Callable[[int], None] | None = None
) -> BackupSummary:
    """Replace the library by the backup at ``source`` (blocking); the library as it was is
    saved first to ``backups/before-restore-*.zip`` next to the data, and put back if the
    restore fails half-way."""
    summary = read_manifest(source)
    if summary.embedder != library.embedder:
        raise BackupError(
            f"{source.name} was made with the embedder {summary.embedder}, this library uses "
            f"{library.embedder}: add the documents again instead"
        )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")  # unique: a restore may undo one
    safety = library.backups_dir / f"before-restore-{stamp}{BACKUP_SUFFIX}"
    safety.parent.mkdir(parents=True, exist_ok=True)
    write_backup(library, safety)
    try:
        _load(library, source, progress)
    except Exception as error:
        _load(library, safety, None)  # back to where it was
        if isinstance(error, HybridMCPError):
            raise
        raise BackupError(f"{source.name} could not be restored: {error}") from error
    return summary


def _load(library: LibraryContents, source: Path, progress: Callable[[int], None] | None) -> None:
    with zipfile.ZipFile(source) as archive:
        rows: list[dict[str, Any]] = [
            json.loads(line) for line in archive.read("ledger.jsonl").splitlines() if line.strip()
        ]
        library.store.clear()
        restored = 0
        for part in _parts(archive):
            library.store.upsert(part)
            restored += len(part)
            if progress is not None:
                progress(restored)
    library.state.replace_rows(rows)
