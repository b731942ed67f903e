"""A hostile or broken ``mcp.json`` (100,000 nested brackets, more than 5 MB, 100,000 servers)
costs the MCP host its servers, with a clear error naming the file, and nothing else: the host
still exists and shows why, the app's other services start, and SIGTERM still quits the app.
The files the MCP import reads (Claude Desktop, VS Code) are read within the same limits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from PySide6.QtWidgets import QApplication

from hybridmcp_app.config.mcp_config import McpConfig
from hybridmcp_app.config.mcp_config_store import McpConfigStore
from hybridmcp_app.config.mcp_import import read_import
from hybridmcp_app.config.mcp_import_sources import ImportSource
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.services.app_services import AppServices, build_services
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.ui.mcp.qt_mcp_servers_view import QtMcpServersView
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from tests.helpers.file_keyring import keyring_env
from tests.helpers.llama_server import free_port
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S

REPO = Path(__file__).resolve().parents[2]
MAX_CONFIG_BYTES = 5 * 1024 * 1024  # the limits the errors name
MAX_SERVERS = 1000
NESTED = "[" * 100_000  # json.loads: RecursionError
TOO_DEEP = "mcp.json is nested deeper than 64 levels (line 1)"


def oversized() -> str:
    """Valid JSON over the limit (6 MB): the size alone must refuse it."""
    return json.dumps({"mcpServers": {}, "padding": "x" * (MAX_CONFIG_BYTES + 1024 * 1024)})


def many_servers(count: int) -> str:
    """``count`` switched-off servers, the first of them broken (its problem is logged)."""
    servers: dict[str, object] = {"broken-first": {"comand": "typo"}}
    servers |= {f"s{index:06d}": {"command": "true", "disabled": True} for index in range(count)}
    text = json.dumps({"mcpServers": servers})
    assert len(text.encode()) < MAX_CONFIG_BYTES  # within the size limit: the count matters
    return text


# ---------------------------------------------------------------------- the readers


@pytest.mark.parametrize(
    ("content", "message"),
    [(NESTED, TOO_DEEP), (oversized(), "mcp.json is larger than 5 MB (6 MB)")],
    ids=["nested", "oversized"],
)
def test_a_hostile_mcp_json_is_refused_with_an_error_naming_the_file_and_left_as_it_is(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content)
    (problem,) = McpJsonFile(path).read().problems
    assert problem.startswith(message)
    assert McpConfigStore(path).load().file_problem == problem
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        McpConfig.load(path)
    with pytest.raises(ConfigError):  # an edit would rewrite it: refused, nothing lost
        McpConfigStore(path).add_server("new", {"command": "true"})
    assert path.read_text() == content


@pytest.mark.parametrize("content", [NESTED, oversized()], ids=["nested", "oversized"])
def test_the_import_reads_other_clients_files_within_the_same_limits(
    tmp_path: Path, content: str
) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text("// VS Code's settings, with a comment\n" + content)
    source = ImportSource("VS Code", "vscode", settings, (("mcp", "servers"),))
    preview = read_import(source, {})
    assert preview.servers == ()
    assert preview.file_problem is not None
    assert preview.file_problem.startswith("settings.json is ")
    assert "nested deeper than 64 levels" in preview.file_problem or (
        "larger than 5 MB" in preview.file_problem
    )


# ---------------------------------------------------------------------- the app's MCP host


@pytest.fixture
async def app_context(app_paths: AppPaths, model_cache: Path) -> AsyncIterator[AppServices]:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    context = build_services(
        app_paths,
        asyncio.get_running_loop(),
        verbose=False,
        secrets=secrets,
        model_cache=model_cache,
    )
    yield context
    await context.tasks.shutdown(timeout_s=PATIENCE_S)
    if context.mcp_host is not None:
        assert await context.mcp_host.shutdown() == []
    context.local_model.close_now(timeout_s=PATIENCE_S)


async def test_a_deeply_nested_mcp_json_leaves_a_host_that_shows_why_in_the_mcp_tab(
    app_paths: AppPaths, app_context: AppServices, qapp: QApplication
) -> None:
    app_paths.mcp_config_file.write_text(NESTED)
    view = QtMcpServersView(app_context.tasks, QtBanner(), lambda: None)
    try:
        host = await start_mcp_host(app_context, view.set_host)
        assert app_context.mcp_host is host
        assert view.host is host
        (problem,) = host.configured.problems
        assert problem.startswith(TOO_DEEP)
        assert host.supervisors == {}
        view.redraw()
        assert view.problems.text() == problem  # it names the file: not "mcp.json: mcp.json…"
        assert view.problems.toolTip() == str(app_paths.mcp_config_file)
    finally:
        view.deleteLater()


# Loading was quadratic (hours for 100,000 servers): the suite's timeout is the safety net.
async def test_a_hundred_thousand_servers_load_at_once_with_listeners_that_walk_them_all(
    app_paths: AppPaths, app_context: AppServices
) -> None:
    app_paths.mcp_config_file.write_text(many_servers(100_000))
    walks: list[int] = []

    def on_ready(host: McpHost) -> None:
        # What the MCP tab and the chat's tool list do on each change: walk every server.
        def walk() -> None:
            walks.append(len(host.registry.tools()) + len(host.supervisors))

        host.registry.subscribe(walk)
        host.subscribe(walk)

    host = await start_mcp_host(app_context, on_ready)
    await asyncio.sleep(0)  # the turn in which the coalesced notices are told
    assert host.configured.problems[0] == (
        "it lists 100,001 servers and HybridMCP runs at most 1,000: only the first 1,000 "
        "are used (remove the ones you do not need)"
    )
    assert host.configured.problems[1].startswith("broken-first: needs either 'command'")
    assert len(host.supervisors) == MAX_SERVERS - 1
    assert 1 <= len(walks) <= 4


# ---------------------------------------------------------------------- the real app


def launch_app(app_paths: AppPaths, keyring: Path) -> subprocess.Popen[str]:
    """``python -m hybridmcp_app`` offscreen in the test's HYBRIDMCP_HOME, its keychain a file."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO),
           **keyring_env(keyring)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "hybridmcp_app", "--verbose"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def quiet_settings(app_paths: AppPaths, **extra: object) -> None:
    """No setup wizard, no model loading: the app starts its services and idles."""
    data = {"ui": {"first_run_completed": True}, "llm": {"local": {"load_on_start": False}}}
    SettingsStore(app_paths).save(Settings.model_validate(data | extra))


def wait_for_log(app_paths: AppPaths, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while True:
        log = app_paths.log_file.read_text() if app_paths.log_file.exists() else ""
        if text in log:
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged; the log:\n{log[-3000:]}")
        time.sleep(0.1)


def terminate(process: subprocess.Popen[str], when: Callable[[], None]) -> str:
    """Run ``when``, send SIGTERM, and return the output of a process that quit by itself."""
    try:
        when()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=PATIENCE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    return output


def test_the_local_api_starts_and_serves_while_mcp_json_is_nested_too_deep(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    port = free_port()
    quiet_settings(app_paths, api={"enabled": True, "port": port})
    app_paths.mcp_config_file.write_text(NESTED)
    keyring = tmp_path / "keyring.json"
    process = launch_app(app_paths, keyring)

    def api_answers() -> None:
        wait_for_log(app_paths, f"API on http://127.0.0.1:{port}/v1", process)
        entries = json.loads(keyring.read_text())
        (token,) = [value for key, value in entries.items() if key.endswith("/api-server-token")]
        response = httpx.get(
            f"http://127.0.0.1:{port}/v1/models",
            headers={"Authorization": f"Bearer {token}"},
            timeout=PATIENCE_S,
        )
        assert response.status_code == 200, response.text
        assert "local" in {model["id"] for model in response.json()["data"]}
        wait_for_log(app_paths, f"mcp.json: {TOO_DEEP}", process)  # the host says why

    terminate(process, api_answers)
    log = app_paths.log_file.read_text()
    assert "RecursionError" not in log
    assert "HybridMCP stopped" in log


def test_sigterm_quits_the_app_while_it_loads_an_mcp_json_of_a_hundred_thousand_servers(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    quiet_settings(app_paths)
    app_paths.mcp_config_file.write_text(many_servers(100_000))
    process = launch_app(app_paths, tmp_path / "keyring.json")
    # Logged once the file is read, just before the servers are put in place.
    terminate(process, lambda: wait_for_log(app_paths, "mcp.json: broken-first:", process))
    assert "HybridMCP stopped" in app_paths.log_file.read_text()
