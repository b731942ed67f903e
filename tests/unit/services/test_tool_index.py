"""The tool index embeds each tool's text once, keeps it on disk, and never keeps the chat."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.services.tool_index import ToolIndex, tool_text
from hybridmcp_app.services.tool_selection import ToolSelector

ADD = McpTool(server="calc", name="add", description="Add two integers.")
TIME = McpTool(server="time", name="now", description="The current time.")


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=2)


def stored_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM tool_vectors").fetchone()[0])


def test_a_tools_text_is_embedded_once_and_read_from_disk_by_the_next_run(
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "tool_vectors.sqlite3"
    texts = [tool_text(ADD), tool_text(TIME)]
    first = ToolIndex(embedder, path)
    vectors = first.vectors_sync(texts)
    again = first.vectors_sync(texts)
    assert first.embedded == 2 and np.array_equal(vectors, again)
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    later = ToolIndex(embedder, path)  # a new run of the app
    assert np.array_equal(later.vectors_sync(texts), vectors) and later.embedded == 0


def test_a_tool_whose_description_changed_is_embedded_again(
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    index = ToolIndex(embedder, tmp_path / "tool_vectors.sqlite3")
    before = index.vectors_sync([tool_text(ADD)])
    changed = ADD.model_copy(update={"description": "Add two integers and return the sum."})
    after = index.vectors_sync([tool_text(changed)])
    assert index.embedded == 2 and not np.array_equal(before, after)


async def test_ranking_stores_the_tools_but_never_the_conversation(
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "tool_vectors.sqlite3"
    selector = ToolSelector(lambda: ToolIndex(embedder, path))
    ranked = await selector.rank([ADD, TIME], ["my secret: what time is it?"])
    assert ranked[0][0] == "time__now"
    assert stored_rows(path) == 2
    assert b"secret" not in path.read_bytes()


def test_a_damaged_vector_file_is_moved_aside_and_the_index_still_works(
    embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "tool_vectors.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    index = ToolIndex(embedder, path)
    assert index.vectors_sync([tool_text(ADD)]).shape == (1, 384)
    assert stored_rows(path) == 1
    assert list(tmp_path.glob("tool_vectors.sqlite3.corrupt-*"))
