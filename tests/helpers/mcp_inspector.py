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

INSPECTOR_VERSION = "0.15.0"
INSPECTOR_PACKAGE = f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"


class InspectorUnavailable(RuntimeError):
    """npm or node is missing, so the Inspector cannot be installed or run."""


def inspector_prefix() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "hybridmcp-tests" / f"inspector-{INSPECTOR_VERSION}"


def install_inspector() -> Path:
    """The Inspector's ``mcp-inspector`` script, installed on first use (npm registry needed)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise InspectorUnavailable("npm and node are needed for the MCP Inspector")
    prefix = inspector_prefix()
    script = prefix / "node_modules" / ".bin" / "mcp-inspector"
    if not script.exists():
        installed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), INSPECTOR_PACKAGE],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if installed.returncode != 0 or not script.exists():
            raise RuntimeError(
                f"npm could not install {INSPECTOR_PACKAGE} into {prefix} (offline and not cached?)"
                f":\n{installed.stderr[-2000:]}"
            )
    return script


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
