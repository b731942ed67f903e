"""Load and save ``settings.json``: migrate old files, survive broken ones, never lose them."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hybridmcp_app.config.atomic_files import write_text_atomically
from hybridmcp_app.config.json_limits import load_json_file
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import (
    CURRENT_SCHEMA_VERSION,
    EnvironmentLayeredSettings,
    Settings,
)
from hybridmcp_app.config.settings_migrations import MIGRATIONS, Migration, migrate
from hybridmcp_app.core.errors import ConfigError, describe_validation_error

log = logging.getLogger("hybridmcp.settings")


@dataclass(frozen=True)
class SettingsLoadReport:
    """What happened while loading, for the log and for a message to the user."""

    problems: tuple[str, ...] = ()
    moved_aside_to: Path | None = None
    migrated_from: int | None = None
    environment_ignored: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def user_message(self) -> str:
        if self.ok:
            return ""
        details = "; ".join(self.problems)
        if self.moved_aside_to is not None:
            return (
                f"Your settings file could not be used ({details}). HybridMCP started with "
                f"default settings and kept the old file as {self.moved_aside_to.name}."
            )
        if self.environment_ignored:
            return (
                f"Settings from the environment or .env were ignored ({details}). "
                "The settings file was used as it is."
            )
        return f"Some settings could not be used ({details}); the rest of the file applies."


class SettingsStore:
    """Reads and writes the settings file of one ``AppPaths``."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        migrations: Mapping[int, Migration] = MIGRATIONS,
        current_version: int = CURRENT_SCHEMA_VERSION,
    ) -> None:
        self._paths = paths
        self._migrations = migrations
        self._current_version = current_version
        # What the file said and what the environment made of it, as of the last load.
        self._file_layer: dict[str, Any] = {}
        self._env_layer: dict[str, Any] = {}

    @property
    def path(self) -> Path:
        return self._paths.settings_file

    def load(self) -> tuple[Settings, SettingsLoadReport]:
        file_data, report = self._read_file()
        self._file_layer = Settings.model_validate(file_data).model_dump(mode="json")
        self._env_layer = self._file_layer
        try:
            layered = EnvironmentLayeredSettings(_env_file=self._env_files(), **file_data)
            settings = layered.to_settings()
            self._env_layer = settings.model_dump(mode="json")
        except ValidationError as error:
            problems = tuple(describe_validation_error(error))
            log.warning("ignoring environment overrides: %s", "; ".join(problems))
            settings = Settings.model_validate(file_data)
            report = SettingsLoadReport(
                problems=report.problems + problems,
                moved_aside_to=report.moved_aside_to,
                migrated_from=report.migrated_from,
                environment_ignored=True,
            )
        return settings, report

    def save(self, settings: Settings) -> None:
        """Write atomically: a crash mid-save leaves the previous file intact.

        Values that came from the environment or .env (and were not changed since) are not
        written: the file keeps its own value, so an override never becomes permanent.
        """
        data = _without_overrides(
            settings.model_dump(mode="json"), self._file_layer, self._env_layer
        )
        data["schema_version"] = self._current_version
        self._write_json(self.path, data)
        log.info("settings saved to %s", self.path)

    def _env_files(self) -> tuple[Path, ...]:
        # Only the config dir's .env: the current folder may be a cloned repository, and a
        # .env there could point a provider (with its keychain key) elsewhere, name an mcp.json
        # that runs any command, or switch approvals off.
        return (self._paths.env_file,)

    def _read_file(self) -> tuple[dict[str, Any], SettingsLoadReport]:
        if not self.path.exists():
            return {}, SettingsLoadReport()
        try:
            data = load_json_file(self.path)
        except ConfigError as error:  # over the size or nesting limit
            return self._quarantine(str(error))
        except UnicodeDecodeError:
            return self._quarantine("the file is not UTF-8 text")
        except json.JSONDecodeError as error:
            return self._quarantine(f"not valid JSON at line {error.lineno}, column {error.colno}")
        except OSError as error:
            # Unreadable (permissions): run on defaults but leave the file where it is.
            problem = f"cannot read {self.path}: {error.strerror}"
            return {}, SettingsLoadReport(problems=(problem,))
        if not isinstance(data, dict):
            return self._quarantine("the top level must be a JSON object")
        try:
            data, started_at = migrate(
                data, target=self._current_version, migrations=self._migrations
            )
        except ConfigError as error:
            return self._quarantine(str(error))
        try:
            Settings.model_validate(data)
        except ValidationError as error:
            return self._quarantine(*describe_validation_error(error))
        if started_at != self._current_version:
            return self._upgrade(data, started_at)
        return data, SettingsLoadReport()

    def _upgrade(
        self, data: dict[str, Any], started_at: int
    ) -> tuple[dict[str, Any], SettingsLoadReport]:
        backup = self.path.with_name(f"{self.path.name}.v{started_at}.bak")
        backup.write_bytes(self.path.read_bytes())
        self._write_json(self.path, data)
        log.info("settings upgraded from schema %d; old file kept as %s", started_at, backup)
        return data, SettingsLoadReport(migrated_from=started_at)

    def _quarantine(self, *problems: str) -> tuple[dict[str, Any], SettingsLoadReport]:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        self.path.replace(target)
        log.warning("settings file unusable (%s); moved to %s", "; ".join(problems), target)
        return {}, SettingsLoadReport(problems=problems, moved_aside_to=target)

    @staticmethod
    def _write_json(path: Path, data: dict[str, Any]) -> None:
        write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _without_overrides(
    data: dict[str, Any], file_layer: dict[str, Any], env_layer: dict[str, Any]
) -> dict[str, Any]:
    """``data`` with each environment-overridden, unchanged value put back to the file's."""
    result = dict(data)
    for key, value in data.items():
        if key not in file_layer or key not in env_layer:
            continue
        from_file, from_env = file_layer[key], env_layer[key]
        if isinstance(value, dict) and isinstance(from_file, dict) and isinstance(from_env, dict):
            result[key] = _without_overrides(value, from_file, from_env)
        elif from_env != from_file and value == from_env:
            result[key] = from_file
    return result
