import logging

import keyring
import pytest
from keyring.backends import fail

from hybridmcp_app.config.secrets import (
    NO_KEYCHAIN_HELP,
    KeychainStatus,
    KeyOriginMismatch,
    SecretStore,
    origin_of,
    system_keychain,
)
from hybridmcp_app.core.errors import SecretStoreError
from tests.helpers.memory_keyring import MemoryKeyring

SECRET = "sk-test-0123456789abcdef"


@pytest.fixture
def memory() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(memory: MemoryKeyring) -> SecretStore:
    return SecretStore(memory, KeychainStatus(True, "memory"))


def test_a_secret_round_trips_by_name(store: SecretStore, memory: MemoryKeyring) -> None:
    store.set("OPENAI_API_KEY", SECRET)
    value = store.get("OPENAI_API_KEY")
    assert value is not None
    assert value.get_secret_value() == SECRET
    assert memory.entries == {("HybridMCP", "OPENAI_API_KEY"): SECRET}


def test_a_missing_secret_is_none_and_deleting_it_says_so(store: SecretStore) -> None:
    assert store.get("NOPE") is None
    assert store.delete("NOPE") is False


def test_deleting_a_secret_removes_it(store: SecretStore) -> None:
    store.set("TOKEN", SECRET)
    assert store.delete("TOKEN") is True
    assert store.get("TOKEN") is None


def test_values_are_redacted_in_reprs_and_strings(store: SecretStore) -> None:
    store.set("TOKEN", SECRET)
    value = store.get("TOKEN")
    assert SECRET not in repr(value)
    assert SECRET not in str(value)
    assert SECRET not in repr(store)


def test_storing_does_not_log_the_value(
    store: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="hybridmcp"):
        store.set("TOKEN", SECRET)
        store.get("TOKEN")
        store.delete("TOKEN")
    assert "TOKEN" in caplog.text
    assert SECRET not in caplog.text


def test_a_failing_backend_gives_an_error_without_the_value() -> None:
    class LockedKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.KeyringLocked(f"collection is locked (tried {password})")

    store = SecretStore(LockedKeyring(), KeychainStatus(True, "locked"))
    with pytest.raises(SecretStoreError) as caught:
        store.set("TOKEN", SECRET)
    assert "could not store secret 'TOKEN' in locked" in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "x" * 129])
def test_invalid_secret_names_are_refused(store: SecretStore, name: str) -> None:
    with pytest.raises(SecretStoreError, match="invalid secret name"):
        store.set(name, SECRET)


def test_an_empty_value_is_refused(store: SecretStore) -> None:
    with pytest.raises(SecretStoreError, match="empty value"):
        store.set("TOKEN", "")


def test_without_a_keychain_every_call_explains_how_to_get_one() -> None:
    store = SecretStore(None, KeychainStatus(False, "none", NO_KEYCHAIN_HELP))
    assert not store.available
    with pytest.raises(SecretStoreError, match="gnome-keyring"):
        store.get("TOKEN")
    with pytest.raises(SecretStoreError, match="encrypted file"):
        store.set("TOKEN", SECRET)


def test_the_fail_backend_counts_as_no_keychain() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        backend, status = system_keychain()
    finally:
        keyring.set_keyring(previous)
    assert backend is None
    assert not status.available
    assert "Secret Service" in status.help_text


def test_an_installed_keyring_backend_is_used() -> None:
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        backend, status = system_keychain()
    finally:
        keyring.set_keyring(previous)
    assert backend is memory
    assert status.available


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com:443"),
        ("HTTPS://API.OpenAI.com:443/v1/", "https://api.openai.com:443"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        ("http://localhost/v1", "http://localhost:80"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("https://user:pw@example.com/v1", "https://example.com:443"),
    ],
)
def test_an_origin_is_scheme_host_and_port_whatever_the_spelling(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_a_key_saved_for_an_origin_is_refused_for_another(store: SecretStore) -> None:
    store.set("LAB_KEY", SECRET, origin="https://api.openai.com:443")
    kept = store.get("LAB_KEY", origin="https://api.openai.com:443")
    assert kept is not None and kept.get_secret_value() == SECRET
    with pytest.raises(KeyOriginMismatch) as refused:
        store.get("LAB_KEY", origin="http://127.0.0.1:9999")
    message = str(refused.value)
    assert "https://api.openai.com:443" in message and "http://127.0.0.1:9999" in message
    assert "Settings → Providers" in message
    assert SECRET not in message


def test_a_key_saved_before_binding_is_bound_to_the_first_origin_that_asks(
    store: SecretStore,
) -> None:
    store.set("OLD_KEY", SECRET)  # as every key was stored before origins
    assert store.origin("OLD_KEY") is None
    assert store.get("OLD_KEY", origin="https://api.mistral.ai:443") is not None
    assert store.origin("OLD_KEY") == "https://api.mistral.ai:443"
    with pytest.raises(KeyOriginMismatch):
        store.get("OLD_KEY", origin="http://evil.example:80")


def test_typing_the_key_again_for_a_new_origin_moves_it(store: SecretStore) -> None:
    store.set("LAB_KEY", SECRET, origin="https://one.example:443")
    store.set("LAB_KEY", "sk-new", origin="https://two.example:443")
    moved = store.get("LAB_KEY", origin="https://two.example:443")
    assert moved is not None and moved.get_secret_value() == "sk-new"
    with pytest.raises(KeyOriginMismatch):
        store.get("LAB_KEY", origin="https://one.example:443")


def test_deleting_a_key_forgets_its_origin(store: SecretStore, memory: MemoryKeyring) -> None:
    store.set("LAB_KEY", SECRET, origin="https://one.example:443")
    assert store.delete("LAB_KEY") is True
    assert memory.entries == {}
