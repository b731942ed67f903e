"""After a full run of the real app, no secret is anywhere but the keychain: not in a file under
the home folders, not in a log, not in the environment of any process the app started.

The run: the app starts over a real Secret Service holding a sentinel provider key, with the
local API and every one of our MCP servers on; a client asks the API for an answer from the
provider (the real llama.cpp server, which insists on that key), so the key is used; the app's
children are inspected while they run; then the app is asked to quit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil

from hybridmcp_app.api_server import TOKEN_SECRET_NAME as API_TOKEN
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import SecretStore, origin_of, system_keychain
from hybridmcp_app.config.server_token import TOKEN_SECRET_NAME as MCP_TOKEN
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.mcp_host.builtin_servers import BUILTIN_SERVERS, builtin_entries
from tests.helpers.llama_server import LlamaServer, free_port
from tests.helpers.waiting import PATIENCE_S

SENTINEL_NAME = "LAB_KEY"
SUBPROCESS_SERVERS = ("workspace", "docstore", "storage", "turtle_soup")  # documents: in-process


def configure(paths: AppPaths, provider: LlamaServer, api_port: int) -> None:
    lab = {"name": "lab", "base_url": provider.base_url, "default_model": "gemma",
           "api_key_secret": SENTINEL_NAME, "max_retries": 0,
           "timeout_s": PATIENCE_S, "first_token_timeout_s": PATIENCE_S}  # fmt: skip
    workspace = paths.data_dir.parent / "workspace"  # the workspace server needs a folder
    workspace.mkdir(parents=True, exist_ok=True)
    settings = {
        "providers": {"items": [lab], "active": "lab"},
        "api": {"enabled": True, "port": api_port},
        # Safety nets, not the app's 30 s: a busy machine starts four servers at once slowly.
        "mcp": {"init_timeout_s": PATIENCE_S, "workspace_roots": [str(workspace)]},
        "ui": {"first_run_completed": True},
        "llm": {"local": {"load_on_start": False}},
    }
    SettingsStore(paths).save(Settings.model_validate(settings))
    servers = builtin_entries()
    for entry in servers.values():
        entry.pop("disabled", None)
    paths.mcp_config_file.write_text(json.dumps({"mcpServers": servers}))


def wait_for(condition: object, what: str, process: subprocess.Popen[str]) -> None:
    """Until ``condition()`` holds; the app exiting first fails at once. A generous safety net
    (a busy machine starts five servers and a library slowly), not a speed check."""
    deadline = time.monotonic() + 240
    while not (callable(condition) and condition()):
        if process.poll() is not None:
            raise AssertionError(f"the app exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within 240 s")
        time.sleep(0.1)


def logged(paths: AppPaths, text: str) -> bool:
    return paths.log_file.exists() and text in paths.log_file.read_text(errors="replace")


def ask_the_provider_through_the_api(port: int, token: str) -> dict[str, object]:
    body = {"model": "provider/lab", "max_tokens": 4,
            "messages": [{"role": "user", "content": "Say hello."}]}  # fmt: skip
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=240) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


def files_under(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                yield path


def test_no_secret_reaches_a_file_a_log_or_a_child_environment(
    app_paths: AppPaths, provider_server: LlamaServer, secret_service: str, tmp_path: Path
) -> None:
    keychain = SecretStore(*system_keychain())
    keychain.set(SENTINEL_NAME, provider_server.api_key, origin=origin_of(provider_server.base_url))
    api_port = free_port()
    configure(app_paths, provider_server, api_port)
    app = subprocess.Popen(
        [sys.executable, "-m", "hybridmcp_app", "--verbose"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    environments: dict[int, dict[str, str]] = {}
    try:
        wait_for(lambda: logged(app_paths, "local OpenAI-compatible API on"), "the API", app)
        for name in SUBPROCESS_SERVERS:
            wait_for(lambda name=name: logged(app_paths, f"{name} ready:"), f"{name} ready", app)
        token = keychain.get(API_TOKEN)
        assert token is not None
        answer = ask_the_provider_through_the_api(api_port, token.get_secret_value())
        assert answer["model"] == "provider/lab"  # the provider answered: the key was used
        for child in psutil.Process(app.pid).children(recursive=True):
            try:
                environments[child.pid] = child.environ()
            except psutil.NoSuchProcess:
                continue
        app.send_signal(signal.SIGTERM)
        output, _ = app.communicate(timeout=240)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, output[-3000:]
    assert len(environments) >= len(SUBPROCESS_SERVERS)
    assert set(SUBPROCESS_SERVERS) <= set(BUILTIN_SERVERS)

    secrets = {SENTINEL_NAME: provider_server.api_key}
    for name in (API_TOKEN, MCP_TOKEN):
        if (kept := keychain.get(name)) is not None:
            secrets[name] = kept.get_secret_value()
    homes = (Path(os.environ["HYBRIDMCP_HOME"]), Path(os.environ["HOME"]), tmp_path / "cwd")
    for name, value in secrets.items():
        assert value not in output, f"{name} was printed"
        for pid, environment in environments.items():
            assert value not in "\n".join(f"{k}={v}" for k, v in environment.items()), (
                f"{name} is in the environment of child {pid}"
            )
        for path in files_under(*homes):
            assert value.encode() not in path.read_bytes(), f"{name} is written in {path}"
    assert any(path.suffix == ".log" for path in files_under(app_paths.log_dir))
