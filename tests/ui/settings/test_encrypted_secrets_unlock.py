from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QInputDialog

from hybridmcp_app.config.encrypted_secrets_file import EncryptedSecretsFile
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.services.app_services import AppServices, build_secret_store
from hybridmcp_app.ui.main_window import MainWindow
from tests.helpers.memory_keyring import MemoryKeyring

PASSPHRASE = "long enough passphrase"


@pytest.fixture
def locked_window(
    app_paths: AppPaths,
    make_context: Callable[..., AppServices],
    make_window: Callable[..., MainWindow],
) -> MainWindow:
    settings = Settings.model_validate({"secrets": {"backend": "encrypted_file"}})
    SettingsStore(app_paths).save(settings)
    EncryptedSecretsFile(app_paths.encrypted_secrets_file, PASSPHRASE).set_password(
        "HybridMCP", "OPENAI_API_KEY", "sk-from-the-file"
    )
    return make_window(make_context(secrets=build_secret_store(settings)))


def _answer_passphrase(monkeypatch: pytest.MonkeyPatch, passphrase: str) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: (passphrase, True))


def test_the_opt_in_key_file_starts_locked_and_unlocks_with_its_passphrase(
    locked_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = locked_window.context.secrets
    assert not secrets.available
    assert locked_window.banner.isVisible()
    assert locked_window.keychain.label.text() == "⚠ No keychain"
    _answer_passphrase(monkeypatch, PASSPHRASE)
    locked_window.banner.action_button.click()
    value = secrets.get("OPENAI_API_KEY")
    assert value is not None and value.get_secret_value() == "sk-from-the-file"
    assert not locked_window.banner.isVisible()
    assert locked_window.keychain.label.text() == "Keychain: encrypted file (opt-in)"


def test_a_wrong_passphrase_keeps_it_locked_and_offers_another_try(
    locked_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer_passphrase(monkeypatch, "not the passphrase")
    locked_window.banner.action_button.click()
    assert not locked_window.context.secrets.available
    assert "wrong passphrase" in locked_window.banner.label.text()
    assert locked_window.banner.action_button.text() == "Try again…"


def _answer_in_turn(monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
    replies = iter(answers)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: (next(replies), True))


def test_opting_in_from_settings_asks_for_a_new_passphrase_twice_and_creates_the_file(
    window: MainWindow, app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.apply_settings(Settings.model_validate({"secrets": {"backend": "encrypted_file"}}))
    assert not window.context.secrets.available
    assert window.banner.action_button.text() == "Set passphrase…"
    _answer_in_turn(monkeypatch, PASSPHRASE, "a different passphrase")
    window.banner.action_button.click()
    assert "the two passphrases differ" in window.banner.label.text()
    assert not window.context.secrets.available
    _answer_in_turn(monkeypatch, PASSPHRASE, PASSPHRASE)
    window.banner.action_button.click()
    window.context.secrets.set("GROQ_API_KEY", "gsk-123456789")
    reopened = EncryptedSecretsFile(app_paths.encrypted_secrets_file, PASSPHRASE)
    assert reopened.get_password("HybridMCP", "GROQ_API_KEY") == "gsk-123456789"


def test_opting_out_again_goes_back_to_the_system_keychain(
    locked_window: MainWindow, memory_keyring: MemoryKeyring
) -> None:
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(memory_keyring)
    try:
        locked_window.apply_settings(Settings())
    finally:
        keyring.set_keyring(previous)
    assert locked_window.context.secrets.available
    assert locked_window.keychain.label.text().startswith("Keychain: ")
