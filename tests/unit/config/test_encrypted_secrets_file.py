import stat
from pathlib import Path

import pytest

from hybridmcp_app.config.encrypted_secrets_file import EncryptedSecretsFile
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.core.errors import SecretStoreError

PASSPHRASE = "correct horse battery"
SECRET = "sk-file-0123456789"


def test_secrets_survive_reopening_with_the_same_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc.json"
    EncryptedSecretsFile(path, PASSPHRASE).set_password("HybridMCP", "KEY", SECRET)
    assert EncryptedSecretsFile(path, PASSPHRASE).get_password("HybridMCP", "KEY") == SECRET


def test_the_file_holds_no_plaintext_and_only_the_owner_can_read_it(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc.json"
    EncryptedSecretsFile(path, PASSPHRASE).set_password("HybridMCP", "KEY", SECRET)
    raw = path.read_bytes()
    assert SECRET.encode() not in raw
    assert b"KEY" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc.json"
    EncryptedSecretsFile(path, PASSPHRASE).set_password("HybridMCP", "KEY", SECRET)
    with pytest.raises(SecretStoreError, match="wrong passphrase"):
        EncryptedSecretsFile(path, "another passphrase")


def test_a_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretStoreError, match="at least 8 characters"):
        EncryptedSecretsFile(tmp_path / "s.json", "short")


def test_a_damaged_file_is_reported_and_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "secrets.enc.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(SecretStoreError, match="unreadable or damaged"):
        EncryptedSecretsFile(path, PASSPHRASE)
    assert path.read_text() == '{"format": "something else"}'


def test_it_serves_as_a_secret_store_backend(tmp_path: Path) -> None:
    backend = EncryptedSecretsFile(tmp_path / "s.json", PASSPHRASE)
    store = SecretStore(backend, KeychainStatus(True, "encrypted file"))
    store.set("KEY", SECRET)
    assert store.get("KEY") is not None
    assert store.delete("KEY") is True
    assert store.delete("KEY") is False
