"""Shared by the tests of the project's own MCP servers: the MCP Inspector, installed once, and
a real library (Chroma, the ONNX embedder) in a temporary folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from tests.helpers.mcp_inspector import InspectorUnavailable, install_inspector


@pytest.fixture(scope="session")
def inspector_script() -> Path:
    """The Inspector's CLI script; skipped only where npm or node is missing."""
    try:
        return install_inspector()
    except InspectorUnavailable as missing:
        pytest.skip(f"{missing}: install Node.js 20 with npm (scripts/system-deps.sh)")


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=2)


@pytest.fixture
async def library(tmp_path: Path, embedder: OnnxEmbedder) -> AsyncIterator[LibraryService]:
    opened = await LibraryService.open(DocumentsSettings(), tmp_path / "data", embedder)
    try:
        yield opened
    finally:
        await opened.close()
