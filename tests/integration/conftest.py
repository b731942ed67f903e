"""Real parts for integration tests: a Secret Service, an X server, PostgreSQL, the provider,
the ONNX embedder and a library (Chroma) in a temporary folder."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from tests.helpers.gguf_files import chat_template, retemplated_gguf
from tests.helpers.llama_server import LlamaServer, provider_config
from tests.helpers.processes import stop
from tests.helpers.secret_service import (
    require_tool,
    secret_service,  # noqa: F401 (a fixture)
)
from tests.helpers.waiting import PATIENCE_S


@pytest.fixture
def x_display() -> Iterator[str]:
    """A real X server (Xvfb) on a free display number; yields ':N'."""
    xvfb = require_tool("Xvfb")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.fail("Xvfb did not report a display number")
        yield f":{number}"
    finally:
        stop(server)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session; its connection string."""
    from tests.helpers.postgres_cluster import PostgresUnavailable, postgres_cluster

    try:
        with postgres_cluster() as conninfo:
            yield conninfo
    except PostgresUnavailable as missing:
        pytest.skip(f"{missing}: scripts/system-deps.sh test installs it")


@pytest.fixture(params=["sqlite", "postgres"])
async def docstore(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """A document store on SQLite, then on a fresh database of the PostgreSQL cluster."""
    from hybridmcp_app.datastores.postgres_document_store import PostgresDocumentStore
    from hybridmcp_app.datastores.sqlite_document_store import SqliteDocumentStore
    from tests.helpers.docstore_data import fresh_database

    if request.param == "sqlite":
        opened: Any = SqliteDocumentStore(tmp_path / "docstore.sqlite3")
    else:
        opened = PostgresDocumentStore(fresh_database(request.getfixturevalue("postgres")))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def provider(provider_server: LlamaServer) -> AsyncIterator[OpenAICompatBackend]:
    """The llama.cpp server as a provider backend (model "gemma")."""
    async with OpenAICompatBackend(
        provider_config(provider_server.base_url), SecretStr(provider_server.api_key)
    ) as backend:
        yield backend


@pytest.fixture
async def local_model(model_cache: Path, embedded_model: Path) -> AsyncIterator[LocalModelService]:
    """The app's local model service with Gemma 3 270M (base) loaded by its file (1,024 tokens):
    the tests over it send few-shot prompts, a base model's job, not the default chat model's."""
    service = LocalModelService(model_cache)
    config = LocalLLMConfig(model_path=embedded_model, inference=InferenceSettings(n_ctx=1024))
    await service.load(config)
    yield service
    await service.unload()


@pytest.fixture(scope="session")
def tool_template_model(
    model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaCppBackend]:
    """SmolLM2 135M Instruct with Qwen 2.5's chat template, which takes tools (its own does
    not): the same weights and tokenizer, loaded once (2,048 tokens)."""
    path = retemplated_gguf(
        SMOLLM2.locate(model_cache),
        tmp_path_factory.mktemp("tool-template") / "smollm2-qwen-template.gguf",
        chat_template("Qwen-Qwen2.5-7B-Instruct"),
    )
    backend = asyncio.run(LlamaCppBackend.open(path, InferenceSettings(n_ctx=2048)))
    yield backend
    assert backend.close_now(timeout_s=PATIENCE_S)


@pytest.fixture(scope="module")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder(threads=2)


@pytest.fixture
async def library(tmp_path: Path, embedder: OnnxEmbedder) -> AsyncIterator[LibraryService]:
    opened = await LibraryService.open(DocumentsSettings(), tmp_path / "data", embedder)
    try:
        yield opened
    finally:
        await opened.close()
