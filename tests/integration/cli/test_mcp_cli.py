"""``hybridmcp mcp`` as a user runs it: the real command in a subprocess, over an ``mcp.json``
whose servers are real subprocesses (the project's MCP test server), under a temporary home."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose mcp.json has the test server, a server whose command is gone, and one off."""
    config = tmp_path / "config"
    config.mkdir()
    servers = {
        "test": {"command": sys.executable, "args": ["-m", "tests.helpers.mcp_test_server"],
                 "cwd": str(REPO)},
        "gone": {"command": str(tmp_path / "no-such-server")},
        "off": {"command": sys.executable, "args": ["-m", "tests.helpers.mcp_test_server"],
                "cwd": str(REPO), "disabled": True},
    }  # fmt: skip
    (config / "mcp.json").write_text(json.dumps({"mcpServers": servers}))
    return tmp_path


def mcp(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app", "--home", str(home), "mcp", *args],
        capture_output=True, text=True, cwd=REPO, timeout=PATIENCE_S * 2, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_list_shows_every_server_of_mcp_json_on_or_off_without_starting_any(home: Path) -> None:
    listed = json.loads(mcp(home, "list", "--json").stdout)
    rows = {row["name"]: row for row in listed["servers"]}
    assert set(rows) == {"test", "gone", "off"}
    assert rows["test"]["enabled"] and not rows["off"]["enabled"]
    assert rows["test"]["transport"] == "stdio"


def test_tools_lists_the_servers_tools_with_the_protocol_it_negotiated(home: Path) -> None:
    result = mcp(home, "tools", "test", "--json")
    assert result.returncode == 0
    listed = json.loads(result.stdout)
    assert listed["protocol_version"] == "2026-07-28"
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert tools["add"]["read_only"] and not tools["crash"]["read_only"]
    human = mcp(home, "tools", "test")
    assert "add [read-only] — Add two integers." in human.stdout.splitlines()


def test_resources_and_prompts_list_what_the_server_offers(home: Path) -> None:
    assert "test://greeting" in mcp(home, "resources", "test").stdout
    assert mcp(home, "prompts", "test").stdout.startswith("summarise(topic)")


def test_a_read_only_tool_runs_without_yes_as_in_the_window(home: Path) -> None:
    result = mcp(home, "call", "test", "add", "--json", '{"a": 2, "b": 40}')
    assert (result.returncode, result.stdout.strip()) == (0, "42")


def test_a_tool_that_needs_approval_runs_only_when_yes_names_it(home: Path) -> None:
    refused = mcp(home, "call", "test", "toggle_extra")
    assert refused.returncode == 2
    assert "needs approval and was not run: add --yes toggle_extra" in refused.stderr
    assert refused.stdout == ""
    allowed = mcp(home, "call", "test", "toggle_extra", "--yes", "test__toggle_extra")
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "toggled")


def test_a_tool_error_exits_1_and_the_json_output_says_so(home: Path) -> None:
    result = mcp(home, "call", "test", "add", "--json", '{"a": "two"}', "--output", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["is_error"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tools", "nobody"), "no MCP server named 'nobody'"),
        (("tools", "off"), "MCP server 'off' is switched off"),
        (("call", "test", "nope"), "tool 'nope' of 'test' does not exist"),
        (("call", "test", "add", "--json", "[1]"), "--json must be a JSON object, not list"),
    ],
)
def test_bad_input_exits_2_with_one_line(home: Path, args: tuple[str, ...], message: str) -> None:
    result = mcp(home, *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_a_server_that_cannot_start_exits_1_with_one_line(home: Path) -> None:
    result = mcp(home, "tools", "gone")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"hybridmcp mcp: gone: command not found: {home / 'no-such-server'}"
    ]
