"""Upgrades of ``settings.json`` from one schema version to the next.

Each entry of ``MIGRATIONS`` maps version N to a function that turns an N file (as a plain dict)
into an N+1 file. Add one whenever a setting is renamed, moved or changes meaning, and bump
``CURRENT_SCHEMA_VERSION`` in ``settings.py``. Schema 1 is the first release: nothing to
migrate yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hybridmcp_app.core.errors import ConfigError

SettingsData = dict[str, Any]
Migration = Callable[[SettingsData], SettingsData]

MIGRATIONS: Mapping[int, Migration] = {}


def migrate(
    data: SettingsData, *, target: int, migrations: Mapping[int, Migration] = MIGRATIONS
) -> tuple[SettingsData, int]:
    """Bring ``data`` up to ``target``; returns the new data and the version it started from."""
    raw_version = data.get("schema_version", 1)
    if not isinstance(raw_version, int) or isinstance(raw_version, bool) or raw_version < 1:
        raise ConfigError(f"schema_version: must be a positive whole number, got {raw_version!r}")
    if raw_version > target:
        raise ConfigError(
            f"schema_version: the file was written by a newer HybridMCP (schema {raw_version}, "
            f"this version reads up to {target})"
        )
    version = raw_version
    while version < target:
        step = migrations.get(version)
        if step is None:
            raise ConfigError(
                f"schema_version: no migration from schema {version} to {version + 1}"
            )
        try:
            data = step(dict(data))
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(
                f"schema_version: upgrading from schema {version} failed: {error}"
            ) from None
        version += 1
        data["schema_version"] = version
    return data, raw_version
