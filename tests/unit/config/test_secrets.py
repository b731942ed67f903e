import logging

import keyring
import pytest
from keyring.backends import fail

from hybridmcp_app.config.secrets import (
    NO_KEYCHAIN_HELP,
    KeychainStatus,
    SecretStore,
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
