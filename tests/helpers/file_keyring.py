"""A ``keyring`` backend in a JSON file, for subprocesses of tests (there is no Secret Service
on CI). A child process picks it with ``keyring_env(path)``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jaraco.classes.properties import classproperty
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "HYBRIDMCP_TEST_KEYRING_FILE"
NO_KEYCHAIN = "keyring.backends.fail.Keyring"  # keyring's own "there is none"


def keyring_env(path: Path | None) -> dict[str, str]:
    """Environment for a child: this file keyring at ``path``, or no keychain at all."""
    if path is None:
        return {"PYTHON_KEYRING_BACKEND": NO_KEYCHAIN}
    return {"PYTHON_KEYRING_BACKEND": f"{__name__}.FileKeyring", FILE_ENV: str(path)}


class FileKeyring(KeyringBackend):
    """Secrets in the JSON file named by ``$HYBRIDMCP_TEST_KEYRING_FILE``."""

    @classproperty
    def priority(cls) -> float:
        # Viable only in a child given the file: keyring offers every loaded backend class, and
        # in the test process itself the real keychain must stay the one found.
        if FILE_ENV not in os.environ:
            raise RuntimeError("only for a process given $HYBRIDMCP_TEST_KEYRING_FILE")
        return 1.0

    def _path(self) -> Path:
        return Path(os.environ[FILE_ENV])

    def _entries(self) -> dict[str, str]:
        path = self._path()
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._entries()
        entries[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._entries()
        if entries.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path().write_text(json.dumps(entries))
