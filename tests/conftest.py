"""Every test runs in its own HYBRIDMCP_HOME with no HYBRIDMCP_* variables from the outside."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pydantic._internal._validators  # noqa: F401  (see below)
import pytest

# PySide6's import hook (shibokensupport's feature_imported) inspects every module imported after
# Qt and can re-enter pydantic's lazy imports half-way ("partially initialized module
# pydantic._internal._validators"). Loading them here, before pytest-qt imports Qt, avoids that.
from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.llm.embedded_model import EMBEDDED_LABEL, embedded_model_path
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from tests.helpers.llama_server import LlamaServer, llama_server
from tests.helpers.waiting import PATIENCE_S


@pytest.fixture(autouse=True)
def app_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    for name in list(os.environ):
        if name.startswith("HYBRIDMCP_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV_VAR, str(home))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # so a developer's ./.env never leaks into a test
    return AppPaths.from_environment().ensure()


@pytest.fixture(autouse=True)
def _restore_app_logger() -> Iterator[None]:
    logger = logging.getLogger("hybridmcp")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def embedded_model(model_cache: Path) -> Path:
    """Gemma 3 270M (base)'s GGUF, joined once. Not the default chat model (SmolLM2): the tests
    that need a base model's continuation of a few-shot prompt ("Rome") load this file by path."""
    return embedded_model_path(model_cache)


@pytest.fixture(scope="session")
def provider_server(embedded_model: Path) -> Iterator[LlamaServer]:
    """llama-cpp-python's OpenAI-compatible server with the embedded model: the provider."""
    with llama_server(embedded_model, api_key="test-provider-key") as server:
        yield server


@pytest.fixture(scope="session")
def gemma(embedded_model: Path) -> Iterator[LlamaCppBackend]:
    """One loaded model shared by the backend tests; each test runs in its own event loop."""
    backend = asyncio.run(
        LlamaCppBackend.open(
            embedded_model, InferenceSettings(n_ctx=2048), display_label=EMBEDDED_LABEL
        )
    )
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)
