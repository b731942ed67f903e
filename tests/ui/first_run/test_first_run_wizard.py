"""The first-run setup in the real window: a GGUF found on disk, a provider tested against a real
OpenAI-compatible server with its key put in the keychain, a folder indexed by the real library,
MCP servers switched through the real host; skipping, refusals, and opening it again."""

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from keyring.errors import KeyringLocked
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from hybridmcp_app.config.first_run import FirstRunChoices
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import McpSettings, Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.llm.embedded_models import SMOLLM2_LABEL
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_library, start_mcp_host
from hybridmcp_app.ui.first_run.qt_first_run_wizard import QtFirstRunWizard
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S, wait_until
from tests.ui.settings.test_providers_page import add_llamacpp


def servers_in(app_paths: AppPaths) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, dict[str, object]]] = json.loads(
        app_paths.mcp_config_file.read_text()
    )
    return data["mcpServers"]


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedded_model: Path) -> Path:
    """A home folder where LM Studio keeps one GGUF (the demo model, linked)."""
    home = tmp_path / "user"
    found = home / ".lmstudio" / "models" / "someone" / "demo" / "demo-q4.gguf"
    found.parent.mkdir(parents=True)
    found.symlink_to(embedded_model)
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.mark.integration
def test_one_pass_sets_the_model_provider_folders_and_servers(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    memory_keyring: MemoryKeyring,
    user_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = tmp_path / "project"  # what the workspace server is given, asked when switched on
    project.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(project))
    # Servers are started only when switched on, so the switch is what starts workspace.
    # A safety net for the server's start, not the app's 30 s: a busy machine may take long.
    mcp = McpSettings(start_servers_on_launch=False, init_timeout_s=PATIENCE_S)
    SettingsStore(app_paths).save(Settings(mcp=mcp))
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "otters.md").write_text("# Otters\n\nOtters hold hands while they sleep.\n")
    window = make_window()
    context = window.context

    async def scenario() -> tuple[QtFirstRunWizard, str]:
        host = await start_mcp_host(context, window.mcp_host_ready)
        library = await start_library(context, window.library_ready)
        assert library is not None
        wizard = await window.open_first_run()
        assert wizard.isVisible()
        wizard.next()  # welcome → local model: the models on disk are looked for at once
        picker = wizard.model_page.picker
        await wait_until(lambda: picker.table.rowCount() == 1)
        source = picker.table.item(0, 1)
        assert source is not None and source.text() == "LM Studio"
        picker.table.selectRow(0)
        assert wizard.model_page.path.text().endswith("demo-q4.gguf")

        wizard.next()  # → provider
        providers = wizard.provider_page.providers
        add_llamacpp(providers, provider_server.base_url, provider_server.api_key)
        test = providers.test_connection()
        assert test is not None
        await test
        assert providers.status.text().startswith("✔ connected in")

        wizard.next()  # → folders
        wizard.folders_page.add_folder(notes)
        wizard.folders_page.add_folder(notes)  # once is enough
        assert wizard.folders_page.folders() == (notes,)

        wizard.next()  # → MCP servers: those of mcp.json, with what each one does
        switches = wizard.servers_page.switches()
        assert switches["documents"] and not switches["workspace"]
        assert "read, search and edit files" in wizard.servers_page.list.item(1).text()
        for row in range(wizard.servers_page.list.count()):
            item = wizard.servers_page.list.item(row)
            if item.text().startswith(("workspace", "documents")):  # documents off, workspace on
                on = item.checkState() == Qt.CheckState.Checked
                item.setCheckState(Qt.CheckState.Unchecked if on else Qt.CheckState.Checked)
        assert wizard.servers_page.workspace_roots == (project,)

        wizard.next()  # → summary
        summary = wizard.summary_page.summary.text()
        wizard.accept()
        assert not wizard.isVisible()
        await wait_until(
            lambda: (
                "workspace" in host.supervisors
                and host.supervisors["workspace"].status.state is ServerState.READY
            )
        )
        deadline = time.monotonic() + PATIENCE_S  # indexed by the watcher it was handed to
        while not any(f.path.name == "otters.md" and f.chunks for f in await library.status()):
            assert time.monotonic() < deadline, "the folder chosen in the wizard was not indexed"
            await asyncio.sleep(0.1)
        # The watcher and the model reload end before the library closes.
        await context.tasks.shutdown(PATIENCE_S)
        await library.close()
        return wizard, summary

    _, summary = qt_loop.run_until_complete(scenario())
    assert "demo-q4.gguf" in summary
    assert "llama.cpp server" in summary
    assert str(notes) in summary
    assert "MCP servers on: workspace" in summary
    assert f"Workspace server's folder: {project}" in summary

    on_disk = app_paths.settings_file.read_text()
    saved = json.loads(on_disk)
    assert saved["ui"]["first_run_completed"] is True
    assert saved["llm"]["local"]["model_path"].endswith("demo-q4.gguf")
    assert saved["providers"]["active"] == "llama.cpp server"
    assert saved["documents"]["watch_folders"] == [str(notes)]
    assert saved["mcp"]["workspace_roots"] == [str(project)]
    assert provider_server.api_key not in on_disk  # the key went to the keychain
    assert memory_keyring.entries[("HybridMCP", "LLAMA_CPP_SERVER_API_KEY")] == (
        provider_server.api_key
    )
    servers = servers_in(app_paths)
    assert servers["documents"].get("disabled") is True
    assert "disabled" not in servers["workspace"]


def test_skipping_keeps_the_defaults_and_the_wizard_is_not_shown_again(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    user_home: Path,
) -> None:
    window = make_window()
    before = window.context.settings
    wizard = qt_loop.run_until_complete(window.open_first_run())
    wizard.next()
    wizard.reject()  # "Skip setup"
    assert window.context.settings.ui.first_run_completed
    assert window.context.settings.model_copy(update={"ui": before.ui}) == before
    assert json.loads(app_paths.settings_file.read_text())["ui"]["first_run_completed"] is True
    assert not app_paths.mcp_config_file.exists()  # no switch was touched


def test_a_provider_that_does_not_validate_cannot_be_left_behind(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, user_home: Path
) -> None:
    window = make_window()
    wizard = qt_loop.run_until_complete(window.open_first_run())
    wizard.next()
    wizard.next()
    assert wizard.currentPage() is wizard.provider_page
    add_llamacpp(wizard.provider_page.providers, "not a url", "")
    wizard.next()
    assert wizard.currentPage() is wizard.provider_page
    assert "base_url" in wizard.provider_page.problem.text()
    assert wizard.provider_page.problem.isVisible()
    wizard.reject()


def test_a_key_the_keychain_refuses_keeps_the_wizard_open_with_the_reason(
    app_paths: AppPaths,
    make_context: Callable[..., object],
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    user_home: Path,
) -> None:
    class LockedKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringLocked("the keyring is locked")

    context = make_context(SecretStore(LockedKeyring(), KeychainStatus(True, "locked")))
    window = make_window(context)
    wizard = qt_loop.run_until_complete(window.open_first_run())
    for _ in range(2):
        wizard.next()
    add_llamacpp(wizard.provider_page.providers, "http://127.0.0.1:9/v1", "sk-typed-key")
    for _ in range(3):
        wizard.next()
    assert wizard.currentPage() is wizard.summary_page
    wizard.accept()
    assert wizard.isVisible()
    problem = wizard.summary_page.problem.text()
    assert "could not be stored in the keychain" in problem
    assert "sk-typed-key" not in problem
    assert not app_paths.settings_file.exists() or (
        not json.loads(app_paths.settings_file.read_text())["providers"]["items"]
    )
    wizard.reject()


def test_settings_can_run_the_setup_again(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, user_home: Path
) -> None:
    window = make_window()
    dialog = window.open_settings()
    dialog.sections.setCurrentRow(0)  # General
    dialog.setup_button.click()
    assert not dialog.isVisible()
    qt_loop.run_until_complete(wait_until(lambda: window.findChild(QtFirstRunWizard) is not None))
    wizard = window.findChild(QtFirstRunWizard)
    assert wizard is not None and wizard.isVisible()
    wizard.reject()
    assert any(action.text() == "First-run &setup…" for action in window.actions())


def test_switches_chosen_before_the_mcp_host_exists_are_written_for_it(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    window = make_window()
    assert window.context.mcp_host is None
    window.apply_first_run(FirstRunChoices(servers={"workspace": True, "documents": True}))
    qt_loop.run_until_complete(wait_until(app_paths.mcp_config_file.exists))
    servers = servers_in(app_paths)
    assert "disabled" not in servers["workspace"]  # switched on
    assert "disabled" not in servers["documents"]  # on already, left alone
    assert servers["storage"]["disabled"] is True  # not asked about: as it was
    assert window.context.settings.ui.first_run_completed


@pytest.mark.integration
def test_a_chosen_folder_that_went_away_is_explained_and_the_rest_is_saved(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, tmp_path: Path
) -> None:
    window = make_window()
    gone = tmp_path / "gone"

    async def scenario() -> None:
        library = await start_library(window.context, window.library_ready)
        assert library is not None
        window.apply_first_run(FirstRunChoices(folders=(gone,)))
        await wait_until(lambda: "is not a folder that exists" in window.banner.label.text())
        await window.context.tasks.shutdown(PATIENCE_S)
        await library.close()

    qt_loop.run_until_complete(scenario())
    assert str(gone) in window.banner.label.text()
    assert window.context.settings.ui.first_run_completed


def test_the_model_page_says_which_model_is_in_use_once_it_loads_behind_the_wizard(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, user_home: Path
) -> None:
    window = make_window()
    service = window.context.local_model

    async def scenario() -> str:
        wizard = await window.open_first_run()
        wizard.next()  # → local model, opened before the model has loaded (as at first start)
        # With no file chosen, the page and the summary name the default: the tiny chat model.
        assert wizard.model_page.path.placeholderText().startswith(SMOLLM2_LABEL)
        assert f"Local model: {SMOLLM2_LABEL}" in wizard.describe(wizard.choices())
        loaded = wizard.model_page.picker.loaded
        assert loaded.text() == "No local model is loaded."
        load = asyncio.ensure_future(service.load(window.context.settings.llm.local))
        await wait_until(lambda: loaded.text().startswith("Loading"))
        await load
        await wait_until(lambda: loaded.text().startswith("In use:"))
        text = loaded.text()
        await service.unload()
        await wait_until(lambda: loaded.text() == "No local model is loaded.")
        wizard.reject()
        return text

    in_use = qt_loop.run_until_complete(scenario())
    assert SMOLLM2_LABEL in in_use and "tokens" in in_use


def test_switching_the_workspace_server_on_without_choosing_a_folder_leaves_it_off(
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    user_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: "")  # cancelled
    window = make_window()
    wizard = qt_loop.run_until_complete(window.open_first_run())
    for _ in range(4):
        wizard.next()
    page = wizard.servers_page
    assert wizard.currentPage() is page
    item = next(page.list.item(row) for row in range(page.list.count())
                if page.list.item(row).data(Qt.ItemDataRole.UserRole) == "workspace")  # fmt: skip
    item.setCheckState(Qt.CheckState.Checked)
    assert item.checkState() == Qt.CheckState.Unchecked
    assert "stays off: it works in a folder you choose" in page.note.text()
    assert page.note.isVisibleTo(page)
    assert not page.switches()["workspace"] and page.workspace_roots == ()
    wizard.reject()
