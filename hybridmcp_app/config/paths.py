"""Where the app keeps its files: platform directories, or all under ``HYBRIDMCP_HOME``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from hybridmcp_app import APP_NAME

HOME_ENV_VAR = "HYBRIDMCP_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The four directories of the app and the well-known files inside them."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AppPaths:
        """Use ``HYBRIDMCP_HOME`` when set (tests, portable installs), else the platform dirs."""
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV_VAR, "").strip()
        if home:
            return cls.under(Path(home).expanduser())
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        root = root.resolve()
        return cls(
            config_dir=root / "config",
            data_dir=root / "data",
            cache_dir=root / "cache",
            log_dir=root / "logs",
        )

    def ensure(self) -> AppPaths:
        for directory in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def env_file(self) -> Path:
        return self.config_dir / ".env"

    @property
    def mcp_config_file(self) -> Path:
        return self.config_dir / "mcp.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "hybridmcp.log"

    @property
    def encrypted_secrets_file(self) -> Path:
        return self.data_dir / "secrets.enc.json"


def resources_dir() -> Path:
    """The shipped resources: inside the installed package, or ``resources/`` of a checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    bundled = package_dir / "_resources"
    if bundled.is_dir():
        return bundled
    return package_dir.parent / "resources"


def licenses_dir() -> Path:
    """LICENSE and THIRD_PARTY_NOTICES.md: bundled with a wheel, or at the checkout's top."""
    bundled = resources_dir() / "licenses"
    if (bundled / "LICENSE").is_file():
        return bundled
    return Path(__file__).resolve().parent.parent.parent
