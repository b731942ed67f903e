"""Index a folder in a process of its own, for the kill test:

    python -m tests.helpers.chroma_indexing DATA_DIR FOLDER

Finishes what an earlier run left (``resume``), then adds FOLDER; prints ``settled N`` after
each file and ``finished CHUNKS`` at the end, flushing every line.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_service import IndexProgress, LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder


def _print_settled(event: IndexProgress) -> None:
    if event.changed is not None:
        print(f"settled {event.done}", flush=True)


async def _index(data_dir: Path, folder: Path) -> None:
    library = await LibraryService.open(DocumentsSettings(), data_dir, OnnxEmbedder(threads=1))
    try:
        await library.resume(_print_settled)
        await library.add([folder], _print_settled)
        print(f"finished {(await library.stats()).chunks}", flush=True)
    finally:
        await library.close()


if __name__ == "__main__":
    asyncio.run(_index(Path(sys.argv[1]), Path(sys.argv[2])))
