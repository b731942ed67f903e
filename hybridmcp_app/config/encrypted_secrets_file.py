"""Opt-in fallback for machines with no keychain: secrets in a passphrase-encrypted file.

Scrypt derives a key from the passphrase; Fernet (AES-128-CBC + HMAC-SHA256) seals the JSON.
The passphrase is never stored; the user types it once per start. Written by hand rather than
with ``keyrings.alt`` because that one prompts on the terminal, which a GUI app cannot use.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from hybridmcp_app.config.atomic_files import write_text_atomically
from hybridmcp_app.core.errors import SecretStoreError

FILE_FORMAT = "hybridmcp-encrypted-secrets"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
MIN_PASSPHRASE_LENGTH = 8


def _derive_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=n, r=r, p=p)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


class EncryptedSecretsFile:
    """A ``SecretBackend`` over one encrypted file; opening it with a wrong passphrase fails."""

    def __init__(self, path: Path, passphrase: str) -> None:
        if len(passphrase) < MIN_PASSPHRASE_LENGTH:
            raise SecretStoreError(
                f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters"
            )
        self._path = path
        self._passphrase = passphrase
        self._entries: dict[str, dict[str, str]] = self._read() if path.exists() else {}

    def __repr__(self) -> str:
        return f"EncryptedSecretsFile(path={str(self._path)!r})"

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries.get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._entries.setdefault(service, {})[username] = password
        self._write()

    def delete_password(self, service: str, username: str) -> None:
        import keyring.errors

        if username not in self._entries.get(service, {}):
            raise keyring.errors.PasswordDeleteError(f"no secret named {username!r}")
        del self._entries[service][username]
        self._write()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            envelope: dict[str, Any] = json.loads(self._path.read_text(encoding="utf-8"))
            if envelope.get("format") != FILE_FORMAT:
                raise ValueError("not a HybridMCP secrets file")
            kdf = envelope["kdf"]
            key = _derive_key(
                self._passphrase, base64.b64decode(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"]
            )
            plain = Fernet(key).decrypt(envelope["token"].encode("ascii"))
        except InvalidToken:
            raise SecretStoreError(f"wrong passphrase for {self._path.name}") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SecretStoreError(f"{self._path.name} is unreadable or damaged: {error}") from None
        entries: dict[str, dict[str, str]] = json.loads(plain)
        return entries

    def _write(self) -> None:
        salt = os.urandom(16)
        key = _derive_key(self._passphrase, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
        token = Fernet(key).encrypt(json.dumps(self._entries).encode("utf-8"))
        envelope = {
            "format": FILE_FORMAT,
            "version": 1,
            "kdf": {
                "name": "scrypt",
                "salt": base64.b64encode(salt).decode("ascii"),
                "n": _SCRYPT_N,
                "r": _SCRYPT_R,
                "p": _SCRYPT_P,
            },
            "token": token.decode("ascii"),
        }
        write_text_atomically(self._path, json.dumps(envelope), mode=0o600)
