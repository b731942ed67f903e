"""Per-server grants (sampling, roots) in ``mcp-grants.json``: nothing granted by default,
kept across stores, and a broken file set aside rather than trusted or lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hybridmcp_app.config.mcp_grants import McpGrantsStore, SamplingGrant, ServerGrants


def test_a_server_never_granted_anything_asks_for_sampling_and_sees_no_folder(
    tmp_path: Path,
) -> None:
    grants = McpGrantsStore(tmp_path / "mcp-grants.json").grants_for("any")
    assert grants.sampling.approval == "ask" and grants.sampling.source == "local"
    assert grants.sampling.max_tokens == 1024 and grants.roots == ()


def test_grants_are_kept_per_server_and_read_back_by_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "mcp-grants.json"
    chosen = ServerGrants(
        sampling=SamplingGrant(source="provider", approval="always", max_tokens=64),
        roots=(tmp_path,),
    )
    McpGrantsStore(path).save("notes", chosen)
    again = McpGrantsStore(path)
    assert again.grants_for("notes") == chosen
    assert again.grants_for("other") == ServerGrants()


def test_a_relative_folder_cannot_be_granted() -> None:
    with pytest.raises(ValidationError, match="absolute path"):
        ServerGrants(roots=(Path("notes"),))


def test_a_broken_file_is_moved_aside_and_every_server_starts_ungranted(tmp_path: Path) -> None:
    path = tmp_path / "mcp-grants.json"
    path.write_text('{"servers": {"notes": {"sampling": {"approval": "sometimes"}}}}')
    store = McpGrantsStore(path)
    assert store.grants_for("notes") == ServerGrants()
    assert store.problem is not None and "mcp-grants.json.bad" in store.problem
    assert (tmp_path / "mcp-grants.json.bad").exists() and not path.exists()
