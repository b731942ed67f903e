"""The project's own servers keep starting when the Python in their entry is gone."""

import sys
from pathlib import Path

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.builtin_servers import builtin_entries, with_running_python


def test_a_moved_bundle_or_venv_starts_our_servers_with_the_running_python(
    tmp_path: Path,
) -> None:
    gone = str(tmp_path / "old-place" / "hybridmcp")
    entry = StdioServerConfig.model_validate(builtin_entries(python=gone)["documents"])
    started = with_running_python(entry)
    assert isinstance(started, StdioServerConfig)
    assert started.command == sys.executable
    assert started.args == entry.args


def test_other_entries_and_existing_commands_are_left_alone(tmp_path: Path) -> None:
    ours = StdioServerConfig.model_validate(builtin_entries(python=sys.executable)["workspace"])
    assert with_running_python(ours) == ours
    gone = str(tmp_path / "gone" / "python")
    theirs = StdioServerConfig.model_validate({"command": gone, "args": ["-m", "their.server"]})
    assert with_running_python(theirs) == theirs
    bare = StdioServerConfig.model_validate(
        {"command": "python3", "args": ["-m", "hybridmcp_app.mcp_servers.docstore"]}
    )
    assert with_running_python(bare) == bare  # a name on PATH is found there
