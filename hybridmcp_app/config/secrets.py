"""API keys and tokens in the OS keychain (``keyring``), behind one small ``SecretStore``.

A key saved for a web service is bound to its origin (scheme, host and port): the origin is kept
in a second keychain entry beside the key (``<name>.origin``), and a key asked for on behalf of
another origin is refused (``KeyOriginMismatch``). So a provider whose address was changed, by
hand or by a hostile configuration, never receives the key typed for the old one.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
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


ORIGIN_SUFFIX = ".origin"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeyOriginMismatch(SecretStoreError):
    """A key was asked for on behalf of an origin other than the one it was saved for."""

    def __init__(
        self, name: str, saved_for: str, asked_for: str, where: str = "Settings → Providers"
    ) -> None:
        super().__init__(
            f"the key '{name}' was saved for {saved_for}; HybridMCP does not send it to "
            f"{asked_for}. If the service moved, type its key again in {where}."
        )
        self.saved_for = saved_for
        self.asked_for = asked_for


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``, in lower case, with the scheme's default port spelled
    out: two URLs reach the same server with the same credentials exactly when these match."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port out of range or not a number
        port = None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port else "")


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

    def set(self, name: str, value: str | SecretStr, *, origin: str | None = None) -> None:
        """Store ``value`` as ``name``; with ``origin`` (``origin_of(url)``), bound to it.

        The key is written before its origin: if the second write fails, the new key stays bound
        to the old origin and is refused, never sent to the old address."""
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not plain:
            raise SecretStoreError(f"refusing to store an empty value for secret '{name}'")
        backend = self._require(name)
        self._write(backend, name, plain)
        if origin is not None:
            self._write(backend, name + ORIGIN_SUFFIX, origin)
        log.info("secret %r stored in %s%s", name, self.status.backend_name,
                 f" for {origin}" if origin else "")  # fmt: skip

    def get(
        self, name: str, *, origin: str | None = None, where: str = "Settings → Providers"
    ) -> SecretStr | None:
        """The secret ``name``; with ``origin``, only if it was saved for that origin (raises
        ``KeyOriginMismatch``, naming ``where`` to store it again, otherwise). A key saved with
        no origin is bound to the first origin it is asked for."""
        backend = self._require(name)
        value = self._read(backend, name)
        if value is None or origin is None:
            return None if value is None else SecretStr(value)
        saved_for = self._read(backend, name + ORIGIN_SUFFIX)
        if saved_for is None:
            try:
                self._write(backend, name + ORIGIN_SUFFIX, origin)
                log.info("secret %r is now bound to %s", name, origin)
            except SecretStoreError as error:  # still usable this once; bound next time
                log.warning("%s", error)
        elif saved_for != origin:
            raise KeyOriginMismatch(name, saved_for, origin, where)
        return SecretStr(value)

    def origin(self, name: str) -> str | None:
        """The origin the secret ``name`` was saved for, if it is bound to one."""
        return self._read(self._require(name), name + ORIGIN_SUFFIX)

    def delete(self, name: str) -> bool:
        """Remove a secret (and the origin it was bound to); returns False when there was none."""
        backend = self._require(name)
        deleted = self._delete(backend, name)
        self._delete(backend, name + ORIGIN_SUFFIX)
        if deleted:
            log.info("secret %r deleted from %s", name, self.status.backend_name)
        return deleted

    def _read(self, backend: SecretBackend, name: str) -> str | None:
        try:
            return backend.get_password(self._service, name)
        except Exception as error:
            raise SecretStoreError(self._failure("read", name, error)) from None

    def _write(self, backend: SecretBackend, name: str, value: str) -> None:
        try:
            backend.set_password(self._service, name, value)
        except Exception as error:  # keyring raises many types; none may carry the value on
            raise SecretStoreError(self._failure("store", name, error)) from None

    def _delete(self, backend: SecretBackend, name: str) -> bool:
        import keyring.errors

        try:
            backend.delete_password(self._service, name)
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as error:
            raise SecretStoreError(self._failure("delete", name, error)) from None
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
