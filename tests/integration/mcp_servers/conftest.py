"""Shared by the tests of the project's own MCP servers: the MCP Inspector, installed once (the
embedder and the library come from tests/integration/conftest.py), and the host's supervisor
(``supervise``) for the tests that run a server the way the app does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.mcp_inspector import InspectorUnavailable, install_inspector
from tests.integration.mcp_host.conftest import supervise  # noqa: F401 (a fixture)


@pytest.fixture(scope="session")
def inspector_script() -> Path:
    """The Inspector's CLI script; skipped only where npm or node is missing."""
    try:
        return install_inspector()
    except InspectorUnavailable as missing:
        pytest.skip(f"{missing}: install Node.js 20 with npm (scripts/system-deps.sh)")
