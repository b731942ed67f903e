"""npm packages the tests run (the MCP Inspector, the reference server, Azurite), installed once
each into ``~/.cache/hybridmcp-tests/<name>-<version>`` (``$XDG_CACHE_HOME`` respected); later
runs need no network."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


class NpmUnavailable(RuntimeError):
    """npm or node is missing."""


def npm_binary(package: str, version: str, binary: str) -> Path:
    """``node_modules/.bin/<binary>`` of ``package@version``, installed at first use."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise NpmUnavailable(f"npm and node are needed for {package}: scripts/system-deps.sh")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    prefix = cache / "hybridmcp-tests" / f"{package.rsplit('/', 1)[-1]}-{version}"
    path = prefix / "node_modules" / ".bin" / binary
    if not path.exists():
        installed = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
             f"{package}@{version}"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if installed.returncode != 0 or not path.exists():
            raise RuntimeError(
                f"npm could not install {package}@{version} into {prefix} (offline and not "
                f"cached?):\n{installed.stderr[-2000:]}"
            )
    return path
