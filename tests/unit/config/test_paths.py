from pathlib import Path

import pytest

from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths, licenses_dir, resources_dir


def test_hybridmcp_home_moves_every_directory_under_it(tmp_path: Path) -> None:
    paths = AppPaths.from_environment({HOME_ENV_VAR: str(tmp_path / "portable")})
    root = (tmp_path / "portable").resolve()
    for directory in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert directory.parent == root
    assert paths.settings_file == root / "config" / "settings.json"
    assert paths.log_file.parent == root / "logs"


def test_without_hybridmcp_home_the_platform_directories_are_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    paths = AppPaths.from_environment({})
    assert paths.config_dir == tmp_path / "xdg-config" / "HybridMCP"
    assert paths.data_dir != paths.config_dir


def test_ensure_creates_the_directories(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "fresh").ensure()
    assert all(
        d.is_dir() for d in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir)
    )


def test_the_shipped_resources_and_licences_are_found() -> None:
    assert (resources_dir() / "icons" / "hybridmcp.svg").is_file()
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in (licenses_dir() / "LICENSE").read_text()
    assert "Gemma Terms of Use" in (licenses_dir() / "THIRD_PARTY_NOTICES.md").read_text()
