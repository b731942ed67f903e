"""Back up a real library and restore it: into the same library, into a Chroma server, and
the refusals (a damaged file, another embedder) that leave the library as it was."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest
from pydantic import AnyHttpUrl

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_backup import BackupError, read_manifest
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, write_corpus
from tests.helpers.chroma_server import chroma_server

pytestmark = pytest.mark.integration


async def snapshot(library: LibraryService) -> tuple[dict[Path, tuple[str, int]], set[str]]:
    statuses = {s.path: (s.content_hash, s.chunks) for s in await library.status()}
    ids: set[str] = set()
    for path in statuses:
        ids |= await asyncio.to_thread(library.store.chunk_ids, path)
    return statuses, ids


async def test_a_restore_brings_back_the_library_as_backed_up_and_can_be_undone(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=3, paragraphs=3)
    library = await LibraryService.open(DocumentsSettings(), tmp_path / "data", embedder)
    try:
        await library.add([tmp_path / "corpus"])
        backed_up = await snapshot(library)
        counted: list[int] = []
        summary = await library.backup(tmp_path / "library.hmlib.zip", counted.append)
        assert (summary.files, summary.chunks) == (len(corpus), len(backed_up[1]))
        assert counted[-1] == summary.chunks
        assert read_manifest(tmp_path / "library.hmlib.zip").chunks == summary.chunks

        later = tmp_path / "later"
        later.mkdir()
        (later / "extra.md").write_text("# Extra\n\nA note added after the backup.\n")
        await library.add([later])
        await library.remove([corpus[0]])
        changed = await snapshot(library)
        assert changed != backed_up

        await library.restore(tmp_path / "library.hmlib.zip")
        assert await snapshot(library) == backed_up
        assert FACT in (await library.search(FACT_QUESTION, k=1))[0].text
        (undo,) = sorted(library.backups_dir.glob("before-restore-*"))
        await library.restore(undo)
        assert await snapshot(library) == changed
    finally:
        await library.close()


async def test_a_backup_of_an_embedded_library_restores_into_a_chroma_server(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    write_corpus(tmp_path / "corpus", files=2, paragraphs=2)
    embedded = await LibraryService.open(DocumentsSettings(), tmp_path / "embedded", embedder)
    try:
        await embedded.add([tmp_path / "corpus"])
        expected = await snapshot(embedded)
        await embedded.backup(tmp_path / "moved.hmlib.zip")
    finally:
        await embedded.close()
    with chroma_server(tmp_path / "server") as url:
        settings = DocumentsSettings(chroma_mode="http", chroma_url=AnyHttpUrl(url))
        served = await LibraryService.open(settings, tmp_path / "served", embedder)
        try:
            await served.restore(tmp_path / "moved.hmlib.zip")
            assert await snapshot(served) == expected
            assert FACT in (await served.search(FACT_QUESTION, k=1))[0].text
        finally:
            await served.close()


async def test_damaged_or_foreign_backups_are_refused_and_the_library_is_kept(
    tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    write_corpus(tmp_path / "corpus", files=1, paragraphs=2)
    library = await LibraryService.open(DocumentsSettings(), tmp_path / "data", embedder)
    try:
        await library.add([tmp_path / "corpus"])
        before = await snapshot(library)
        good = tmp_path / "good.hmlib.zip"
        await library.backup(good)

        garbage = tmp_path / "garbage.hmlib.zip"
        garbage.write_bytes(b"not a zip at all")
        with pytest.raises(BackupError, match="not a library backup"):
            await library.restore(garbage)

        foreign = tmp_path / "foreign.hmlib.zip"
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(foreign, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "manifest.json":
                    manifest = json.loads(data)
                    manifest["embedder"] = "some-other-model"
                    data = json.dumps(manifest).encode()
                target.writestr(item, data)
        with pytest.raises(BackupError, match="made with the embedder some-other-model"):
            await library.restore(foreign)

        broken = tmp_path / "broken.hmlib.zip"
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename.endswith(".npy"):
                    data = data[: len(data) // 2]  # cut embeddings: found half-way through
                target.writestr(item, data)
        with pytest.raises(BackupError, match="could not be restored"):
            await library.restore(broken)
        assert await snapshot(library) == before
        with pytest.raises(BackupError, match="does not exist"):
            await library.restore(tmp_path / "missing.zip")
    finally:
        await library.close()
