"""The document library: indexing speed against the embedder alone, rescanning, and searching.

Indexing: a generated corpus (``library_corpus``: PDF handouts, Markdown FAQs, text notes) in two
halves. Each half is indexed end to end (``LibraryService.add`` on its folder: scan, parse in the
worker processes, chunk, embed, upsert into embedded Chroma, ledger) and, apart, its very chunks
(parsed and cut by the same code) are embedded alone in batches of the indexer's size. Order
A(half 1), B(half 1), B(half 2), A(half 2), so drifting load falls on both sides; the rates are
over both halves. The embedder is the app's (``OnnxEmbedder()``: one thread on two cores).

Rescan: the unchanged corpus, five times each, alternating ``LibraryService.add`` (what a rescan
does: scan with the ledger's hashes, prune, find every file current) and ``scan_documents``
alone; medians, per 1,000 files.

Search: a second library grown to 10,000 and then 100,000 chunks of synthetic unit vectors with
short texts (``ChromaStore.upsert`` in batches of 5,000), timed through ``LibraryService.search``
(query embedding included) over 50 different questions at each size. At 10,000 chunks the search
is exact (``ExactIndex``, below ``exact_search_limit``); at 100,000 it is Chroma's HNSW. Growing
it to 100,000 takes most of the search part's time: Chroma stores about 1,200 records a second.

Targets: index/embed >= 0.90; rescan <= 0.5 s per 1,000 files; search p50 <= 30 ms at 100k.

The load of other processes during each phase is printed (CPU seconds the machine spent outside
this process and its children, per second of the phase): the machine is shared.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.library_corpus import SUBJECTS, sentence, write_library_corpus
from benchmarks.report import emit, median, print_table
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.document_models import (
    ChunkProvenance,
    DocumentChunk,
    VectorDocument,
)
from hybridmcp_app.documents.document_parsers import parse_document
from hybridmcp_app.documents.document_scanner import scan_documents
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.documents.text_chunker import chunk_document
from hybridmcp_app.embeddings.onnx_embedder import DIMENSIONS, OnnxEmbedder

FILES_PER_HALF = 165
RESCANS = 5
QUERIES = 50
SIZES = (10_000, 100_000)
INSERT_BATCH = 5_000
SETTINGS = DocumentsSettings()


class LoadMeter:
    """Wall time of a phase and the CPU the rest of the machine used meanwhile."""

    def __enter__(self) -> LoadMeter:
        self._wall, self._cpu = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall_s = time.perf_counter() - self._wall
        machine, own = (end - start for end, start in zip(_cpu_seconds(), self._cpu, strict=True))
        self.others = max(0.0, machine - own) / self.wall_s  # cores' worth of other work


def _cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, of this process and its ended children)."""
    with Path("/proc/stat").open() as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    machine = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        own += usage.ru_utime + usage.ru_stime
    return machine, own


def chunk_texts(folder: Path, embedder: OnnxEmbedder) -> list[str]:
    """The texts of the chunks indexing ``folder`` produces, by the indexer's own steps."""
    texts: list[str] = []
    for file in scan_documents([folder], SETTINGS.extensions).files:
        chunks = chunk_document(
            parse_document(file),
            embedder.count_tokens,
            chunk_tokens=SETTINGS.chunk_tokens,
            overlap_tokens=SETTINGS.chunk_overlap_tokens,
        )
        texts.extend(chunk.text for chunk in chunks)
    return texts


def embed_alone(embedder: OnnxEmbedder, texts: Sequence[str], batch: int) -> LoadMeter:
    with LoadMeter() as meter:
        for start in range(0, len(texts), batch):
            embedder.embed_sync(texts[start : start + batch])
    return meter


async def index_folder(library: LibraryService, folder: Path) -> tuple[LoadMeter, int]:
    with LoadMeter() as meter:
        report = await library.add([folder])
    assert report.failed == report.skipped == 0, report
    return meter, report.chunks


async def measure_indexing(root: Path, embedder: OnnxEmbedder) -> dict[str, float]:
    halves = [root / "corpus" / "half-1", root / "corpus" / "half-2"]
    for seed, half in enumerate(halves, start=7):
        write_library_corpus(half, FILES_PER_HALF, seed=seed)
    library = await LibraryService.open(SETTINGS, root / "data", embedder)
    try:
        texts = [chunk_texts(half, embedder) for half in halves]
        embedder.embed_sync(texts[0][: library.embed_batch])  # load the model: not timed
        index_1, chunks_1 = await index_folder(library, halves[0])
        embed_1 = embed_alone(embedder, texts[0], library.embed_batch)
        embed_2 = embed_alone(embedder, texts[1], library.embed_batch)
        index_2, chunks_2 = await index_folder(library, halves[1])
        assert [chunks_1, chunks_2] == [len(texts[0]), len(texts[1])], "not the same chunks"
        rescan = await measure_rescan(library, root / "corpus")
    finally:
        await library.close()
    chunks = chunks_1 + chunks_2
    index_s, embed_s = index_1.wall_s + index_2.wall_s, embed_1.wall_s + embed_2.wall_s
    phases = {"index_1": index_1, "embed_1": embed_1, "embed_2": embed_2, "index_2": index_2}
    return {
        "files": 2 * FILES_PER_HALF,
        "chunks": chunks,
        "index_s": index_s,
        "embed_s": embed_s,
        "index_chunks_per_s": chunks / index_s,
        "embed_chunks_per_s": chunks / embed_s,
        "index_vs_embed_ratio": embed_s / index_s,
        "half_1_ratio": embed_1.wall_s / index_1.wall_s,
        "half_2_ratio": embed_2.wall_s / index_2.wall_s,
        **{f"others_load_{name}": meter.others for name, meter in phases.items()},
        **rescan,
    }


async def measure_rescan(library: LibraryService, corpus: Path) -> dict[str, float]:
    added: list[float] = []
    scanned: list[float] = []
    for _ in range(RESCANS):
        started = time.perf_counter()
        report = await library.add([corpus])
        added.append(time.perf_counter() - started)
        assert report.unchanged == 2 * FILES_PER_HALF and report.indexed == 0, report
        started = time.perf_counter()
        known = library.state.known()
        found = scan_documents([corpus], SETTINGS.extensions, known=known)
        scanned.append(time.perf_counter() - started)
        assert found.hashed == 0, "an unchanged file was read again"
    per_1000 = 1000 / (2 * FILES_PER_HALF)
    return {
        "rescan_s_per_1000_files": median(added) * per_1000,
        "scan_s_per_1000_files": median(scanned) * per_1000,
    }


def synthetic(start: int, count: int, seed: int) -> list[VectorDocument]:
    """``count`` chunks (20 per made-up file) of one sentence each, with random unit vectors."""
    words = random.Random(seed)
    vectors = np.random.default_rng(seed).standard_normal((count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    documents = []
    for number, vector in enumerate(vectors, start=start):
        chunk = DocumentChunk(
            id=f"synthetic-{number}",
            text=sentence(words),
            tokens=24,
            position=number % 20,
            content_hash=f"{number // 20:064x}",
            provenance=ChunkProvenance(
                path=Path(f"/synthetic/doc-{number // 20:05}.md"), first_line=1, last_line=2
            ),
        )
        documents.append(VectorDocument(chunk=chunk, embedding=tuple(vector.tolist())))
    return documents


def questions(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    asks = ("Who reviewed", "When did the team discuss", "What changed in", "Who owns")
    return [f"{rng.choice(asks)} {rng.choice(SUBJECTS)}? {sentence(rng)}" for _ in range(count)]


async def measure_search(root: Path, embedder: OnnxEmbedder) -> dict[str, float]:
    library = await LibraryService.open(SETTINGS, root / "sized", embedder)
    results: dict[str, float] = {}
    try:
        size = 0
        for target in SIZES:
            before = size
            with LoadMeter() as insert:
                while size < target:
                    count = min(INSERT_BATCH, target - size)
                    batch = synthetic(size, count, seed=size)
                    await asyncio.to_thread(library.store.upsert, batch)
                    size += count
            assert await asyncio.to_thread(library.store.count) == target
            for question in questions(3, seed=5):  # warm-up, not counted
                await library.search(question)
            times: list[float] = []
            with LoadMeter() as searching:
                for question in questions(QUERIES):
                    started = time.perf_counter()
                    hits = await library.search(question)
                    times.append((time.perf_counter() - started) * 1000)
                    assert len(hits) == 8
            label = f"{target // 1000}k"
            results |= {
                f"query_ms_p50_{label}": median(times),
                f"query_ms_p95_{label}": statistics.quantiles(times, n=20)[18],
                f"insert_chunks_per_s_{label}": (target - before) / insert.wall_s,
                f"others_load_query_{label}": searching.others,
            }
    finally:
        await library.close()
    return results


def main() -> None:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    embedder = OnnxEmbedder()  # as the app makes it
    with tempfile.TemporaryDirectory(prefix="hybridmcp-bench-library-") as folder:
        indexing = asyncio.run(measure_indexing(Path(folder), embedder))
        search = asyncio.run(measure_search(Path(folder), embedder))
    metrics = {
        **indexing,
        **search,
        "load_avg_1m_before": load_before,
        "load_avg_1m_after": os.getloadavg()[0],
        "wall_s": time.perf_counter() - started,
    }
    print_table(
        f"Library: {metrics['files']:.0f} files, {metrics['chunks']:.0f} chunks, indexed in "
        "two halves (A1 B1 B2 A2); search through LibraryService.search",
        rows(metrics),
        ["measure", "value", "detail", "others' load (cores)"],
    )
    ratio, rescan = metrics["index_vs_embed_ratio"], metrics["rescan_s_per_1000_files"]
    p50 = metrics["query_ms_p50_100k"]
    print(
        f"index/embed = {ratio:.3f} (target >= 0.90: {_verdict(ratio >= 0.90)}); "
        f"rescan {rescan:.3f} s per 1,000 files (target <= 0.5: {_verdict(rescan <= 0.5)}); "
        f"search p50 at 100k {p50:.1f} ms (target <= 30: {_verdict(p50 <= 30)}); "
        f"load average {load_before:.2f} before, {metrics['load_avg_1m_after']:.2f} after; "
        f"{metrics['wall_s']:.0f} s in all"
    )
    emit(
        "library",
        metrics,
        notes="generated corpus (PDF via PyMuPDF, Markdown, text; short parts, ~45-token chunks) "
        "indexed by LibraryService.add vs OnnxEmbedder.embed_sync alone on the same chunk texts "
        "in batches of 64, alternating A1 B1 B2 A2 (app embedder: 1 ONNX thread); rescan = add "
        "of the unchanged corpus, median of 5; search = LibraryService.search incl. query "
        "embedding (exact at 10k, Chroma's HNSW at 100k), 50 questions, over synthetic unit "
        "vectors upserted 5,000 at a time; "
        "others_load_* = other processes' CPU cores during the phase",
    )


def rows(m: dict[str, float]) -> list[list[str]]:
    def load(*names: str) -> str:
        return " / ".join(f"{m[f'others_load_{name}']:.2f}" for name in names)

    table = [
        ["indexing end to end (chunks/s)", f"{m['index_chunks_per_s']:.1f}",
         f"{m['index_s']:.1f} s", load("index_1", "index_2")],
        ["embedding alone, same chunks (chunks/s)", f"{m['embed_chunks_per_s']:.1f}",
         f"{m['embed_s']:.1f} s", load("embed_1", "embed_2")],
        ["index / embed", f"{m['index_vs_embed_ratio']:.3f}",
         f"halves {m['half_1_ratio']:.3f}, {m['half_2_ratio']:.3f}", ""],
        ["rescan unchanged, add (s / 1,000 files)", f"{m['rescan_s_per_1000_files']:.3f}", "", ""],
        ["rescan unchanged, scan (s / 1,000 files)", f"{m['scan_s_per_1000_files']:.3f}", "", ""],
    ]  # fmt: skip
    for label in (f"{size // 1000}k" for size in SIZES):
        table.append(
            [
                f"search at {label} chunks (ms p50 / p95)",
                f"{m[f'query_ms_p50_{label}']:.1f} / {m[f'query_ms_p95_{label}']:.1f}",
                f"inserted {m[f'insert_chunks_per_s_{label}']:.0f} chunks/s",
                load(f"query_{label}"),
            ]
        )
    return table


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
