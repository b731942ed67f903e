"""API keys and tokens in the OS keychain (``keyring``), behind one small ``SecretStore``."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from hybridmcp_app import APP_NAME
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.core.llm_configs import SECRET_NAME_PATTERN

log = logging.getLogger("hybridmcp.secrets")

NO_KEYCHAIN_HELP = (
    "No system keychain was found, so API keys cannot be stored safely. "
    "On Linux install and start a Secret Service provider (GNOME Keyring: "
    "'sudo apt install gnome-keyring', or KeePassXC with Secret Service enabled); "
    "macOS Keychain and Windows Credential Manager work out of the box. "
    "Alternatively opt in to an encrypted file protected by a passphrase you type at each start."
)


class SecretBackend(Protocol):
    """The three calls of a ``keyring`` backend that the store needs."""

    def get_password(self, service: str, username: str) -> str | None: ...
    def set_password(self, service: str, username: str, password: str) -> None: ...
    def delete_password(self, service: str, username: str) -> None: ...


@dataclass(frozen=True)
class KeychainStatus:
    """Whether secrets can be stored, by what, and what to do if not."""

    available: bool
    backend_name: str
    help_text: str = ""
    pending: bool = False


DETECTING = KeychainStatus(False, "detecting…", "Still looking for a keychain.", pending=True)
FILE_LOCKED = KeychainStatus(False, "encrypted file (locked)", "Unlock it with its passphrase.")
FILE_UNLOCKED = KeychainStatus(True, "encrypted file (opt-in)")


def system_keychain() -> tuple[SecretBackend | None, KeychainStatus]:
    """The best ``keyring`` backend on this machine, or None with an explanation."""
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    name = str(getattr(backend, "name", type(backend).__name__))
    usable = not isinstance(backend, fail.Keyring)
    if isinstance(backend, chainer.ChainerBackend):
        usable = bool(backend.backends)
    if not usable:
        return None, KeychainStatus(False, "none", NO_KEYCHAIN_HELP)
    return backend, KeychainStatus(True, name)


class SecretStore:
    """Set, get and delete secrets by name. Values come back as ``SecretStr`` (redacted repr)."""

    def __init__(
        self, backend: SecretBackend | None, status: KeychainStatus, *, service: str = APP_NAME
    ) -> None:
        self._backend = backend
        self._service = service
        self.status = status

    def __repr__(self) -> str:
        return f"SecretStore(service={self._service!r}, backend={self.status.backend_name!r})"

    @property
    def available(self) -> bool:
        return self._backend is not None

    def use_backend(self, backend: SecretBackend | None, status: KeychainStatus) -> None:
        """Switch backends: once detection ends, or the user unlocks the opt-in encrypted file."""
        self._backend = backend
        self.status = status
        if backend is None:
            log.warning("no keychain: API keys cannot be stored until one is set up")
        else:
            log.info("secrets are kept in %s", status.backend_name)

    def set(self, name: str, value: str | SecretStr) -> None:
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not plain:
            raise SecretStoreError(f"refusing to store an empty value for secret '{name}'")
        backend = self._require(name)
        try:
            backend.set_password(self._service, name, plain)
        except Exception as error:  # keyring raises many types; none may carry the value on
            raise SecretStoreError(self._failure("store", name, error)) from None
        log.info("secret %r stored in %s", name, self.status.backend_name)

    def get(self, name: str) -> SecretStr | None:
        backend = self._require(name)
        try:
            value = backend.get_password(self._service, name)
        except Exception as error:
            raise SecretStoreError(self._failure("read", name, error)) from None
        return None if value is None else SecretStr(value)

    def delete(self, name: str) -> bool:
        """Remove a secret; returns False when there was none."""
        import keyring.errors

        backend = self._require(name)
        try:
            backend.delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as error:
            raise SecretStoreError(self._failure("delete", name, error)) from None
        log.info("secret %r deleted from %s", name, self.status.backend_name)
        return True

    def _require(self, name: str) -> SecretBackend:
        if not re.fullmatch(SECRET_NAME_PATTERN, name):
            raise SecretStoreError(
                f"invalid secret name {name!r}: use letters, digits, '.', '_' or '-' (max 128)"
            )
        if self._backend is None:
            raise SecretStoreError(self.status.help_text or NO_KEYCHAIN_HELP)
        return self._backend

    def _failure(self, action: str, name: str, error: Exception) -> str:
        detail = str(error)[:200] or type(error).__name__
        return f"could not {action} secret '{name}' in {self.status.backend_name}: {detail}"
