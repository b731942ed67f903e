"""The real embedded model: assembled once per session, loaded once for the backend tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.llm.embedded_model import EMBEDDED_LABEL
from hybridmcp_app.llm.llama_backend import LlamaCppBackend


@pytest.fixture(scope="session")
def gemma(embedded_model: Path) -> Iterator[LlamaCppBackend]:
    """One loaded model shared by the backend tests; each test runs in its own event loop."""
    backend = asyncio.run(
        LlamaCppBackend.open(
            embedded_model, InferenceSettings(n_ctx=2048), display_label=EMBEDDED_LABEL
        )
    )
    yield backend
    assert backend.close_now(timeout_s=5)
