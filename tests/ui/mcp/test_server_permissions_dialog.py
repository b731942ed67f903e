"""The MCP tab's "Permissions…" over a real server subprocess (``tests.helpers.sampling_server``,
2026-07-28): folders granted there (a workspace root offered by the settings, and any folder
through the picker) are the roots the server lists; sampling set to "never" refuses the
server's next request without asking; a folder that is gone is refused and nothing changes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.mcp_grants import MCP_GRANTS_FILE, McpGrantsStore, ServerGrants
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcp_requests import host_requests, unattended_asker
from hybridmcp_app.services.mcp_sampling import SamplingDecision, SamplingReview
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_server_permissions_dialog import QtServerPermissionsDialog
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.integration.mcp_host.conftest import REPO

SERVER = "sampler"


@dataclass
class RecordingApprover:
    """Denies, and keeps what it was shown (a refused request must never get here)."""

    shown: list[SamplingReview] = field(default_factory=list)

    async def review_request(self, review: SamplingReview) -> SamplingDecision:
        self.shown.append(review)
        return "deny"

    async def review_answer(self, review: SamplingReview) -> bool:
        self.shown.append(review)
        return False


@pytest.fixture(autouse=True)
def _patient_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))


def window_with_sampler(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], offered: Path
) -> MainWindow:
    """The window over an mcp.json with the sampling server, ``offered`` a workspace root."""
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    entry = {"command": sys.executable, "cwd": str(REPO),
             "args": ["-m", "tests.helpers.sampling_server"]}  # fmt: skip
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {SERVER: entry}}))
    settings = {"mcp": {"workspace_roots": [str(offered)]}}
    SettingsStore(app_paths).save(Settings.model_validate(settings))
    return make_window()


async def start_host(window: MainWindow, approver: RecordingApprover) -> McpHost:
    """Start the host and select the sampling server, in the same run of the event loop as
    the scenario that uses it (between two runs, anyio's cancellation callbacks find no running
    loop and close the server's session)."""

    def requests() -> HostRequests:
        return host_requests(window.context, unattended_asker("decline"), approver)

    host = await start_mcp_host(window.context, window.mcp_host_ready, host_requests=requests)
    await wait_until(lambda: host.supervisors[SERVER].status.state is ServerState.READY)
    view = window.mcp_view
    view.redraw()
    view.list.setCurrentRow(sorted(host.supervisors).index(SERVER))
    assert view.selected() == SERVER
    return host


async def open_dialog(window: MainWindow) -> QtServerPermissionsDialog:
    window.mcp_view.permissions_button.click()
    await wait_until(lambda: bool(window.mcp_view.findChildren(QtServerPermissionsDialog)))
    (dialog,) = window.mcp_view.findChildren(QtServerPermissionsDialog)
    return dialog


def sample_params() -> str:
    message = {"role": "user", "content": {"type": "text", "text": "Say hi."}}
    return json.dumps({"messages": [message], "maxTokens": 8})


def test_folders_granted_in_the_dialog_are_the_servers_roots_and_never_refuses_sampling(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offered, picked = tmp_path / "project", tmp_path / "my notes"
    offered.mkdir()
    picked.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(picked))
    window = window_with_sampler(app_paths, make_window, offered)
    approver = RecordingApprover()
    grants = McpGrantsStore(app_paths.config_dir / MCP_GRANTS_FILE)

    async def scenario() -> tuple[list[str], list[str], str, str]:
        host = await start_host(window, approver)
        before = json.loads((await host.registry.call(f"{SERVER}__roots", {})).text)
        dialog = await open_dialog(window)
        offered_choices = [dialog.choices.itemText(i) for i in range(dialog.choices.count())]
        assert dialog.approval.currentData() == "ask" and dialog.folders() == []
        qtbot.mouseClick(dialog.add_choice, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(dialog.add_other, Qt.MouseButton.LeftButton)
        dialog.approval.setCurrentIndex(dialog.approval.findData("never"))
        dialog.max_tokens.setValue(64)
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: grants.grants_for(SERVER).sampling.approval == "never")
        after = (await host.registry.call(f"{SERVER}__roots", {})).text
        sampled = await host.registry.call(f"{SERVER}__sample", {"params_json": sample_params()})
        assert sampled.is_error
        return before, offered_choices, after, sampled.text

    before, choices, after, refusal = qt_loop.run_until_complete(scenario())
    assert before == [] and choices == [str(offered)]
    assert json.loads(after) == [offered.as_uri(), picked.as_uri()]
    assert "refused in HybridMCP's MCP settings" in refusal and approver.shown == []
    saved = grants.grants_for(SERVER)
    assert saved.roots == (offered, picked) and saved.sampling.max_tokens == 64


def test_a_granted_folder_that_is_gone_is_refused_in_one_line_and_nothing_changes(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    offered = tmp_path / "project"
    offered.mkdir()
    window = window_with_sampler(app_paths, make_window, offered)
    grants = McpGrantsStore(app_paths.config_dir / MCP_GRANTS_FILE)

    async def scenario() -> None:
        await start_host(window, RecordingApprover())
        dialog = await open_dialog(window)
        qtbot.mouseClick(dialog.add_choice, Qt.MouseButton.LeftButton)
        dialog.approval.setCurrentIndex(dialog.approval.findData("never"))
        offered.rmdir()  # gone before Save
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "is not a folder" in window.banner.label.text())

    qt_loop.run_until_complete(scenario())
    assert window.banner.label.text() == f"{offered} is not a folder on this computer"
    assert grants.grants_for(SERVER) == ServerGrants()
