"""The app's own servers, started by the app, read the app's settings: the workspace server
serves ``mcp.workspace_roots``, not the folder the app happens to run in (on a desktop launch,
the whole home folder). And nothing secret of the app's environment reaches them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import psutil
import pytest

from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.mcp_host.builtin_servers import WORKSPACE_MODULE, builtin_entries
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_services import build_services
from hybridmcp_app.services.app_startup import start_mcp_host
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S, wait_until

SENTINELS = {
    "OPENAI_API_KEY": "sentinel-openai-key",
    "HYBRIDMCP_MCP_TOKEN": "sentinel-mcp-token",
    "HYBRIDMCP_DOCSTORE_POSTGRES": "postgresql://user:sentinel-password@db/x",
}
XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


def workspace_process() -> psutil.Process:
    (found,) = [
        child
        for child in psutil.Process().children(recursive=True)
        if WORKSPACE_MODULE in " ".join(child.cmdline())
    ]
    return found


def environment_of(process: psutil.Process) -> dict[str, str]:
    """What the process was started with (Linux: /proc/<pid>/environ)."""
    raw = Path(f"/proc/{process.pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode(errors="replace") for key, value in pairs}


def app_paths_for(where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    """The app's folders: under HYBRIDMCP_HOME, or (no home) the platform's XDG folders."""
    if where == "home":
        return AppPaths.from_environment().ensure()
    monkeypatch.delenv(HOME_ENV_VAR)
    for name in XDG:
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    return AppPaths.from_environment().ensure()


@pytest.mark.parametrize("where", ["home", "xdg"])
async def test_the_apps_workspace_server_serves_the_configured_roots_with_no_secret_passed(
    where: str, tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = app_paths_for(where, tmp_path, monkeypatch)
    assert str(paths.config_dir).startswith(str(tmp_path))
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("in the configured root\n")
    (Path.cwd() / "private.txt").write_text("in the app's current folder\n")
    # A safety net for the server's start, not the app's 30 s: a busy machine may take long.
    mcp = {"workspace_roots": [str(project)], "init_timeout_s": PATIENCE_S}
    SettingsStore(paths).save(Settings.model_validate({"mcp": mcp}))
    entries = builtin_entries()
    for name, entry in entries.items():
        entry.pop("disabled", None)
        if name != "workspace":
            entry["disabled"] = True
    paths.mcp_config_file.write_text(json.dumps({"mcpServers": entries}))
    for name, value in SENTINELS.items():
        monkeypatch.setenv(name, value)

    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    context = build_services(
        paths, asyncio.get_running_loop(), verbose=False, secrets=secrets, model_cache=model_cache
    )
    try:
        host = await start_mcp_host(context, lambda _host: None)
        workspace = host.supervisors["workspace"]
        await wait_until(lambda: workspace.status.state in (ServerState.READY, ServerState.FAILED))
        assert workspace.status.state is ServerState.READY, workspace.status.message
        outcome = await host.registry.call("workspace__inventory", {})
        assert not outcome.is_error, outcome.text
        assert outcome.structured is not None
        roots = [root["root"] for root in outcome.structured["roots"]]
        assert roots == [str(project.resolve())]

        environ = environment_of(workspace_process())
        for name, value in SENTINELS.items():
            assert name not in environ
            assert not any(value in passed for passed in environ.values())
        if where == "home":
            assert environ[HOME_ENV_VAR] == str(paths.config_dir.parent)
        else:
            assert HOME_ENV_VAR not in environ
            assert {name: environ[name] for name in XDG} == {
                name: str(tmp_path / name.lower()) for name in XDG
            }
    finally:
        await context.tasks.shutdown(timeout_s=PATIENCE_S)
        if context.mcp_host is not None:
            assert await context.mcp_host.shutdown() == []
        context.local_model.close_now(timeout_s=PATIENCE_S)
