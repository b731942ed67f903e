"""The storage mounts of HybridMCP's settings, with their credentials read from the keychain.

Settings name a keychain secret for each credential option (``credentials``); here each name is
looked up and its value becomes the fsspec option, in the storage server's process only. A
mount whose secret is missing, or a keychain that cannot be read, does not stop the others: that
mount is marked ``unavailable`` with the reason, which every use of it reports.
"""

from __future__ import annotations

import json

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.storage_settings import StorageSettings
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.datastores.object_storage import Mount


def mounts_from_settings(settings: StorageSettings, secrets: SecretStore) -> list[Mount]:
    """One ``Mount`` per configured mount, credentials filled in (or why they could not be)."""
    mounts: list[Mount] = []
    for configured in settings.mounts:
        options: dict[str, object] = dict(configured.options)
        problem: str | None = None
        for option, secret_name in configured.credentials.items():
            try:
                value = secrets.get(secret_name)
            except SecretStoreError as error:
                problem = f"mount {configured.name!r}: its credentials cannot be read: {error}"
                break
            if value is None:
                problem = (
                    f"mount {configured.name!r}: the keychain has no secret {secret_name!r} "
                    f"(its {option}); store it in Settings → Storage"
                )
                break
            options[option] = _value(value.get_secret_value())
        if problem is not None:
            options = {}
        mounts.append(
            Mount(name=configured.name, url=configured.url, options=options, unavailable=problem)
        )
    return mounts


def _value(text: str) -> object:
    """A JSON object stays an object (a GCS service-account key), anything else a string."""
    if text.lstrip().startswith("{"):
        try:
            parsed: object = json.loads(text)
        except json.JSONDecodeError:
            return text
        return parsed
    return text
