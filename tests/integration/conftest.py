"""Real parts for integration tests: a Secret Service, an X server, PostgreSQL, the provider,
the ONNX embedder and a library (Chroma) in a temporary folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.core
import pytest
from pydantic import SecretStr

from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from tests.helpers.llama_server import LlamaServer, provider_config
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S

# A session bus with no service activation: otherwise the first Secret Service call could make
# dbus-daemon start a second, locked gnome-keyring-daemon before ours has claimed the name.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
MISSING_TOOL = (
    "{tool} is missing: run `bash scripts/system-deps.sh test` (make test does it as root)"
)


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(MISSING_TOOL.format(tool=tool))
    return path


def _forget_keyring_probe() -> None:
    # keyring probes which backends are viable once per process (jaraco's @once) and keeps it.
    with contextlib.suppress(KeyError):  # reset() raises when nothing was probed yet
        keyring.backend.get_all_keyring.reset()


def _login_collection_unlocked() -> bool:
    # Only looks: asking for the default collection too early would make the daemon try to
    # create one, which needs a prompt that nobody can answer here.
    import secretstorage

    try:
        with secretstorage.dbus_init() as connection:
            if not secretstorage.check_service_availability(connection):
                return False
            return any(
                collection.get_label() == "Login" and not collection.is_locked()
                for collection in secretstorage.get_all_collections(connection)
            )
    except secretstorage.exceptions.SecretStorageException:
        return False


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private D-Bus session with an unlocked GNOME Keyring; yields the bus address."""
    dbus_daemon, keyring_daemon = _require("dbus-daemon"), _require("gnome-keyring-daemon")
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    home = tmp_path / "keyring-home"
    home.mkdir()
    address = f"unix:path={runtime}/bus"
    config = tmp_path / "session-bus.conf"
    config.write_text(BUS_CONFIG.format(address=address))
    bus = subprocess.Popen(
        [dbus_daemon, f"--config-file={config}", "--nofork", "--nopidfile"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env_vars = {
        "DBUS_SESSION_BUS_ADDRESS": address,
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / "share"),
        "HOME": str(home),
    }
    for name, value in env_vars.items():
        monkeypatch.setenv(name, value)
    daemon: subprocess.Popen[bytes] | None = None
    previous_backend = keyring.get_keyring()
    try:
        deadline = time.monotonic() + PATIENCE_S
        while not (runtime / "bus").exists():
            if time.monotonic() > deadline:
                pytest.fail(f"dbus-daemon did not open its socket within {PATIENCE_S:g} s")
            time.sleep(0.02)
        daemon = subprocess.Popen(
            [keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env_vars},
        )
        assert daemon.stdin is not None
        daemon.stdin.write(b"test-keyring-password")
        daemon.stdin.close()
        while not _login_collection_unlocked():
            if time.monotonic() > deadline:
                pytest.fail(
                    f"gnome-keyring-daemon did not unlock its login keyring within {PATIENCE_S:g} s"
                )
            time.sleep(0.05)
        _forget_keyring_probe()  # so keyring looks again, now that a Secret Service is on the bus
        keyring.core.init_backend()
        yield address
    finally:
        _forget_keyring_probe()
        keyring.set_keyring(previous_backend)
        if daemon is not None:
            stop(daemon)
        stop(bus)


@pytest.fixture
def x_display() -> Iterator[str]:
    """A real X server (Xvfb) on a free display number; yields ':N'."""
    xvfb = _require("Xvfb")
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
