"""Settings → Providers with a real OpenAI-compatible server (llama.cpp's) on 127.0.0.1."""

import json
from collections.abc import Callable

import qasync

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import origin_of
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.settings.qt_providers_page import QtProvidersPage, secret_name_for
from hybridmcp_app.ui.settings.qt_settings_dialog import QtSettingsDialog
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.silent_server import silent_server
from tests.helpers.waiting import wait_until


def open_page(window: MainWindow) -> tuple[QtSettingsDialog, QtProvidersPage]:
    dialog = window.open_settings()
    page = dialog.providers_page
    assert page is not None
    dialog.sections.setCurrentRow(2)
    return dialog, page


def add_llamacpp(page: QtProvidersPage, base_url: str, key: str) -> None:
    page.preset.setCurrentIndex(page.preset.findData("llamacpp"))
    page.add_from_preset()
    page.base_url.setText(base_url)
    page.key.setText(key)


def test_a_provider_is_added_tested_and_saved_with_its_key_in_the_keychain(
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    app_paths: AppPaths,
    memory_keyring: MemoryKeyring,
) -> None:
    window = make_window()
    dialog, page = open_page(window)
    add_llamacpp(page, provider_server.base_url, provider_server.api_key)
    assert page.name.text() == "llama.cpp server"
    task = page.test_connection()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert page.status.text().startswith("✔ connected in")
    assert page.model.count() >= 1
    dialog.save()
    on_disk = json.loads(app_paths.settings_file.read_text())
    provider = on_disk["providers"]["items"][0]
    assert provider["api_key_secret"] == "LLAMA_CPP_SERVER_API_KEY"
    assert on_disk["providers"]["active"] == "llama.cpp server"
    assert provider_server.api_key not in app_paths.settings_file.read_text()
    assert (
        memory_keyring.entries[("HybridMCP", "LLAMA_CPP_SERVER_API_KEY")] == provider_server.api_key
    )


def test_a_wrong_key_fails_the_test_with_the_reason(
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
) -> None:
    _, page = open_page(make_window())
    add_llamacpp(page, provider_server.base_url, "wrong")
    page.retries.setValue(0)
    task = page.test_connection()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert page.status.text().startswith("✘")
    assert "401" in page.status.text()


def test_an_invalid_url_blocks_saving_and_shows_the_providers_page(
    make_window: Callable[..., MainWindow], app_paths: AppPaths
) -> None:
    window = make_window()
    dialog, page = open_page(window)
    add_llamacpp(page, "not a url", "")
    dialog.sections.setCurrentRow(0)
    dialog.save()
    assert "providers.items.0.base_url" in dialog.errors.text()
    assert dialog.sections.currentItem().text() == "Providers"
    assert not app_paths.settings_file.exists()


def test_removing_the_default_provider_makes_the_next_one_default(
    make_window: Callable[..., MainWindow],
) -> None:
    _, page = open_page(make_window())
    for _ in range(2):
        page.preset.setCurrentIndex(page.preset.findData("ollama"))
        page.add_from_preset()
    assert [page.list.item(i).text() for i in range(page.list.count())] == [
        "Ollama (this computer) ★",
        "Ollama (this computer) 2",
    ]
    page.list.setCurrentRow(0)
    page.remove_current()
    value = page.value()
    assert [p.name for p in value.items] == ["Ollama (this computer) 2"]
    assert value.active == "Ollama (this computer) 2"


def test_key_names_are_derived_from_provider_names() -> None:
    assert secret_name_for("OpenAI (work)") == "OPENAI_WORK_API_KEY"


def test_a_provider_moved_to_another_address_asks_for_its_key_again_and_says_why(
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    provider_server: LlamaServer,
    app_paths: AppPaths,
    memory_keyring: MemoryKeyring,
) -> None:
    window = make_window()
    dialog, page = open_page(window)
    add_llamacpp(page, provider_server.base_url, provider_server.api_key)
    dialog.save()
    secret = ("HybridMCP", "LLAMA_CPP_SERVER_API_KEY")
    assert memory_keyring.entries[secret] == provider_server.api_key
    assert memory_keyring.entries[("HybridMCP", "LLAMA_CPP_SERVER_API_KEY.origin")] == (
        origin_of(provider_server.base_url)
    )

    with silent_server() as elsewhere:
        dialog, page = open_page(window)
        page.base_url.setText(elsewhere.base_url)
        page.base_url.editingFinished.emit()
        here = origin_of(elsewhere.base_url)
        assert f"The stored key was saved for {origin_of(provider_server.base_url)}" in (
            page.status.text()
        )
        assert page.key.placeholderText() == "type the key for this address"
        page.first_token_timeout.setValue(1)
        task = page.test_connection()  # tested without the stored key
        assert task is not None
        qt_loop.run_until_complete(task)
        assert page.status.text() == "✘ llama.cpp server did not answer within 1 s"
        dialog.save()  # refused: the key must be typed again
        assert dialog.isVisible()
        assert f"now points to {here}" in dialog.errors.text()
        # The request reached the new address (its headers in full: what a key would be in)…
        qt_loop.run_until_complete(
            wait_until(lambda: any(b"\r\n\r\n" in data for data in elsewhere.requests()))
        )
        assert not elsewhere.saw(provider_server.api_key)  # … without the stored key
    assert json.loads(app_paths.settings_file.read_text())["providers"]["items"][0]["base_url"] == (
        provider_server.base_url
    )

    page.key.setText("key-for-the-new-address")
    dialog.save()
    assert not dialog.isVisible()
    assert memory_keyring.entries[secret] == "key-for-the-new-address"
    assert memory_keyring.entries[("HybridMCP", "LLAMA_CPP_SERVER_API_KEY.origin")] == here
