"""The official MCP Inspector's CLI as an independent client of the project's servers.

``@modelcontextprotocol/inspector`` 0.15.0 (it runs on the Node 20 here) is installed once with
npm into ``~/.cache/hybridmcp-tests`` (``$XDG_CACHE_HOME`` respected); later runs need no network.
Its CLI prints the JSON-RPC result on stdout:

    mcp-inspector --cli <command args... | URL> --method tools/list
    mcp-inspector --cli <command args... | URL> --method tools/call --tool-name X --tool-arg k=v
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.npm_packages import NpmUnavailable, npm_binary

INSPECTOR_VERSION = "0.15.0"


InspectorUnavailable = NpmUnavailable  # npm or node is missing


def install_inspector() -> Path:
    """The Inspector's ``mcp-inspector`` script, installed on first use (npm registry needed)."""
    return npm_binary("@modelcontextprotocol/inspector", INSPECTOR_VERSION, "mcp-inspector")


@dataclass(frozen=True)
class InspectorCli:
    """Runs the Inspector's CLI against one server: a command line (stdio) or a URL."""

    script: Path
    target: Sequence[str]
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    timeout_s: float = 120

    def run(self, *options: str) -> dict[str, Any]:
        """The CLI's JSON answer; raises with its output when it fails or prints no JSON."""
        node = shutil.which("node")
        if node is None:
            raise InspectorUnavailable("node is needed for the MCP Inspector")
        done = subprocess.run(
            [node, str(self.script), "--cli", *self.target, *options],
            capture_output=True, text=True, timeout=self.timeout_s, check=False, cwd=self.cwd,
            env={**os.environ, **(self.env or {})},
        )  # fmt: skip
        try:
            answer = json.loads(done.stdout)
        except json.JSONDecodeError:
            answer = None
        if done.returncode != 0 or not isinstance(answer, dict):
            raise RuntimeError(
                f"the Inspector failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return answer

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = self.run("--method", "tools/list")["tools"]
        return tools

    def call_tool(self, name: str, **arguments: str) -> dict[str, Any]:
        pairs = [f"{key}={value}" for key, value in arguments.items()]
        options = ["--method", "tools/call", "--tool-name", name]
        return self.run(*options, *(["--tool-arg", *pairs] if pairs else []))
