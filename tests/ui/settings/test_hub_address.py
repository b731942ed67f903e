"""Settings → Local model → Hub address: Get models talks to the hub typed there (a mirror, a
proxy; here real hubs on 127.0.0.1), a wrong address is refused in one line, and a token saved
for one hub is never sent to another."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.settings.qt_model_catalog_dialog import QtModelCatalogDialog
from hybridmcp_app.ui.settings.qt_model_picker import QtModelPicker
from hybridmcp_app.ui.settings.qt_settings_dialog import QtSettingsDialog
from tests.helpers.gguf_files import write_tiny_gguf
from tests.helpers.hub_server import HubServer, ServedFile, ServedRepo, hub_server
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S

REPO = "example/mirrored-GGUF"
NAME = "mirrored-Q4_K_M.gguf"
HUB_FIELD = "llm.local.hub_endpoint"


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[tuple[HubServer, HubServer]]:
    served = write_tiny_gguf(tmp_path / "tiny.gguf")
    with hub_server() as first, hub_server() as second:
        for hub in (first, second):
            hub.add(ServedRepo(REPO, {NAME: ServedFile(served)}, gated=True))
            hub.tokens.add("hf_first")
        yield first, second


def _local_model_page(window: MainWindow) -> tuple[QtSettingsDialog, QtModelPicker]:
    settings = window.open_settings()
    picker = settings.model_picker
    assert isinstance(picker, QtModelPicker)
    return settings, picker


def _type_hub(settings: QtSettingsDialog, address: str) -> None:
    editor = settings.forms["llm.local"].editors[HUB_FIELD].widget
    editor.setText(address)  # type: ignore[attr-defined]


def test_get_models_talks_to_the_hub_address_typed_in_the_settings_before_saving(
    hubs: tuple[HubServer, HubServer],
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = hubs
    monkeypatch.setenv("HF_ENDPOINT", first.endpoint)  # the setting wins over it
    settings, picker = _local_model_page(make_window())
    assert settings.forms["llm.local"].editors[HUB_FIELD].get() is None  # default: empty
    _type_hub(settings, second.endpoint + "/")
    dialog = picker.open_catalog()
    assert isinstance(dialog, QtModelCatalogDialog) and dialog.endpoint == second.endpoint
    assert second.endpoint in dialog.hub_label.text()
    dialog.hub_search.setText("mirrored")
    qt_loop.run_until_complete(dialog.search_hub())
    assert [repo for repo, _ in dialog.table.repos] == [REPO]
    assert second.requests and not first.requests


def test_a_hub_address_saved_in_the_settings_is_used_the_next_time(
    hubs: tuple[HubServer, HubServer], make_window: Callable[..., MainWindow]
) -> None:
    _, second = hubs
    window = make_window()
    settings, _ = _local_model_page(window)
    _type_hub(settings, second.endpoint)
    settings.save()
    assert window.context.settings.llm.local.hub_endpoint == second.endpoint
    _, picker = _local_model_page(window)
    dialog = picker.open_catalog()
    assert isinstance(dialog, QtModelCatalogDialog) and dialog.endpoint == second.endpoint


def test_a_plain_http_hub_address_elsewhere_is_refused_in_one_line_and_nothing_is_lost(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    window = make_window()
    settings, picker = _local_model_page(window)
    _type_hub(settings, "http://hf-mirror.com")
    assert picker.open_catalog() is None
    assert picker.findChild(QtModelCatalogDialog) is None
    assert picker.status.text().startswith("Get models: the hub address")
    assert "must use https" in picker.status.text() and "\n" not in picker.status.text()
    settings.save()
    assert settings.isVisible() and not settings.errors.isHidden()
    assert "hub_endpoint" in settings.errors.text() and "must use https" in settings.errors.text()
    editor = settings.forms["llm.local"].editors[HUB_FIELD]
    assert editor.get() == "http://hf-mirror.com"  # what was typed stays, to be corrected
    assert window.context.settings.llm.local.hub_endpoint is None


def test_a_token_saved_in_get_models_for_one_hub_is_not_sent_to_another(
    hubs: tuple[HubServer, HubServer],
    qtbot: QtBot,
    qt_loop: qasync.QEventLoop,
    app_paths: object,
    tmp_path: Path,
) -> None:
    first, second = hubs
    tasks = BackgroundTasks(qt_loop)
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))

    def dialog_for(hub: HubServer) -> QtModelCatalogDialog:
        dialog = QtModelCatalogDialog(tmp_path / hub.endpoint[-5:], tasks, secrets,
                                      endpoint=hub.endpoint)  # fmt: skip
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    def download(dialog: QtModelCatalogDialog) -> None:
        qt_loop.run_until_complete(dialog.list_files(REPO, []))
        task = dialog.download()
        assert task is not None
        qt_loop.run_until_complete(task)

    try:
        on_first = dialog_for(first)
        on_first.token.setText("hf_first")
        on_first.save_token_button.click()
        assert f"Token saved in the keychain for {first.endpoint}" in on_first.message.text()
        download(on_first)
        on_second = dialog_for(second)
        download(on_second)
    finally:
        qt_loop.run_until_complete(tasks.shutdown(PATIENCE_S))
    assert first.file_requests(NAME)[-1]["authorization"] == "Bearer hf_first"
    assert {r["authorization"] for r in second.requests} == {None}
    assert "is gated" in on_second.message.text()  # the second hub refused: no token for it


def test_an_empty_hub_address_shows_which_hub_is_used_instead(
    hubs: tuple[HubServer, HubServer],
    make_window: Callable[..., MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _ = hubs
    monkeypatch.setenv("HF_ENDPOINT", first.endpoint)
    settings, _ = _local_model_page(make_window())
    editor = settings.forms["llm.local"].editors[HUB_FIELD].widget
    assert editor.placeholderText() == f"(not set: {first.endpoint})"  # type: ignore[attr-defined]
