"""``hybridmcp mcp grant`` as a user runs it (a subprocess under a temporary home): folders
granted and taken back, the sampling source set, kept in ``mcp-grants.json`` where the window
reads them; bad input gets one line, exit 2, and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_grants import MCP_GRANTS_FILE, McpGrantsStore, ServerGrants
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    server = {"command": sys.executable, "args": ["-m", "tests.helpers.sampling_server"]}
    (config / "mcp.json").write_text(json.dumps({"mcpServers": {"sampler": server}}))
    return tmp_path


def grant(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "--home", str(home), "mcp", "grant", *args],
        capture_output=True, text=True, cwd=REPO, timeout=PATIENCE_S, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result


def stored(home: Path) -> ServerGrants:
    return McpGrantsStore(home / "config" / MCP_GRANTS_FILE).grants_for("sampler")


def test_folders_are_granted_and_revoked_and_sampling_is_set_where_the_window_reads_them(
    home: Path, tmp_path: Path
) -> None:
    notes, code = tmp_path / "notes", tmp_path / "code"
    notes.mkdir()
    code.mkdir()
    shown = grant(home, "sampler")
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [
        "sampler: sampling local, approval ask, up to 1024 tokens", "  no folders granted",
    ]  # fmt: skip
    granted = grant(home, "sampler", "--root", str(notes), "--root", str(code))
    assert granted.returncode == 0 and f"  root {code}" in granted.stdout.splitlines()
    revoked = grant(home, "sampler", "--revoke-root", str(notes), "--sampling", "off")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.splitlines() == [
        "sampler: sampling off, approval ask, up to 1024 tokens", f"  root {code}",
    ]  # fmt: skip
    assert stored(home).roots == (code,) and stored(home).sampling.source == "off"


def test_a_missing_folder_or_unknown_server_is_one_line_exit_2_and_nothing_changes(
    home: Path, tmp_path: Path
) -> None:
    missing = grant(home, "sampler", "--root", str(tmp_path / "nowhere"), "--sampling", "off")
    assert missing.returncode == 2
    assert (
        missing.stderr
        == f"hybridmcp mcp grant: {tmp_path / 'nowhere'} is not a folder on this computer\n"
    )
    unknown = grant(home, "nobody", "--sampling", "off")
    assert unknown.returncode == 2 and unknown.stderr.startswith(
        "hybridmcp mcp grant: no server 'nobody'"
    )
    assert stored(home) == ServerGrants()
