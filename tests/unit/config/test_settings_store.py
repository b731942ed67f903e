import json
from pathlib import Path
from typing import Any

import pytest

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import CURRENT_SCHEMA_VERSION, Settings
from hybridmcp_app.config.settings_migrations import SettingsData
from hybridmcp_app.config.settings_store import SettingsStore


def _write(paths: AppPaths, data: Any) -> None:
    text = data if isinstance(data, str) else json.dumps(data)
    paths.settings_file.write_text(text, encoding="utf-8")


def _broken_files(paths: AppPaths) -> list[Path]:
    return sorted(paths.config_dir.glob("settings.json.broken-*"))


def test_without_a_file_the_defaults_are_used(app_paths: AppPaths) -> None:
    settings, report = SettingsStore(app_paths).load()
    assert settings == Settings()
    assert report.ok


def test_saved_settings_load_back_equal(app_paths: AppPaths) -> None:
    store = SettingsStore(app_paths)
    changed = Settings.model_validate(
        {
            "ui": {"theme": "dark", "last_tab": "library"},
            "llm": {"local": {"inference": {"n_ctx": 8192, "parameters": {"temperature": 0.2}}}},
            "documents": {"watch_folders": ["/data/papers"], "extensions": ["pdf", "md"]},
        }
    )
    store.save(changed)
    loaded, report = store.load()
    assert report.ok
    assert loaded == changed
    on_disk = json.loads(app_paths.settings_file.read_text())
    assert on_disk["schema_version"] == CURRENT_SCHEMA_VERSION
    assert on_disk["ui"]["theme"] == "dark"


def test_saving_leaves_no_temporary_files_behind(app_paths: AppPaths) -> None:
    store = SettingsStore(app_paths)
    for theme in ("dark", "light", "system"):
        store.save(Settings.model_validate({"ui": {"theme": theme}}))
    assert [p.name for p in app_paths.config_dir.iterdir()] == ["settings.json"]


def test_environment_variables_override_the_file(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(app_paths)
    store.save(Settings.model_validate({"ui": {"theme": "light"}, "game": {"difficulty": "hard"}}))
    monkeypatch.setenv("HYBRIDMCP_UI__THEME", "dark")
    monkeypatch.setenv("HYBRIDMCP_LLM__LOCAL__INFERENCE__N_CTX", "8192")
    settings, report = store.load()
    assert report.ok
    assert settings.ui.theme == "dark"
    assert settings.llm.local.inference.n_ctx == 8192
    assert settings.game.difficulty == "hard"  # untouched values still come from the file


def test_environment_beats_dotenv_which_beats_the_file(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(app_paths)
    store.save(Settings.model_validate({"ui": {"theme": "light"}, "game": {"host": "local"}}))
    app_paths.env_file.write_text(
        "HYBRIDMCP_UI__THEME=dark\nHYBRIDMCP_GAME__HOST=provider\n", encoding="utf-8"
    )
    settings, _ = store.load()
    assert (settings.ui.theme, settings.game.host) == ("dark", "provider")
    monkeypatch.setenv("HYBRIDMCP_GAME__HOST", "embedding")
    settings, _ = store.load()
    assert (settings.ui.theme, settings.game.host) == ("dark", "embedding")


def test_a_bad_environment_value_is_ignored_and_reported_but_the_file_is_kept(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(app_paths)
    store.save(Settings.model_validate({"ui": {"theme": "light"}}))
    monkeypatch.setenv("HYBRIDMCP_UI__THEME", "neon")
    settings, report = store.load()
    assert settings.ui.theme == "light"
    assert report.environment_ignored
    assert any(problem.startswith("ui.theme:") for problem in report.problems)
    assert "environment" in report.user_message()
    assert app_paths.settings_file.exists()
    assert _broken_files(app_paths) == []


def test_malformed_json_starts_on_defaults_and_keeps_the_file_aside(app_paths: AppPaths) -> None:
    original = '{"ui": {"theme": "dark",,}'
    _write(app_paths, original)
    settings, report = SettingsStore(app_paths).load()
    assert settings == Settings()
    assert not app_paths.settings_file.exists()
    (kept,) = _broken_files(app_paths)
    assert kept.read_text() == original
    assert report.moved_aside_to == kept
    assert "not valid JSON at line 1" in report.problems[0]
    assert kept.name in report.user_message()


def test_an_invalid_field_is_named_in_the_report(app_paths: AppPaths) -> None:
    _write(app_paths, {"llm": {"local": {"inference": {"parameters": {"temperature": 9}}}}})
    settings, report = SettingsStore(app_paths).load()
    assert settings == Settings()
    (problem,) = report.problems
    assert problem.startswith("llm.local.inference.parameters.temperature:")
    assert len(_broken_files(app_paths)) == 1


def test_an_unknown_field_is_named_in_the_report(app_paths: AppPaths) -> None:
    _write(app_paths, {"ui": {"them": "dark"}})
    _, report = SettingsStore(app_paths).load()
    assert report.problems == ("ui.them: Extra inputs are not permitted",)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2, 3]", "the top level must be a JSON object"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ({"schema_version": "two"}, "schema_version: must be a positive whole number"),
    ],
)
def test_files_of_the_wrong_shape_are_kept_aside(
    app_paths: AppPaths, content: Any, problem: str
) -> None:
    if isinstance(content, bytes):
        app_paths.settings_file.write_bytes(content)
    else:
        _write(app_paths, content)
    settings, report = SettingsStore(app_paths).load()
    assert settings == Settings()
    assert problem in report.problems[0]
    assert len(_broken_files(app_paths)) == 1


def test_a_file_from_a_newer_version_is_kept_aside_not_overwritten(app_paths: AppPaths) -> None:
    _write(app_paths, {"schema_version": CURRENT_SCHEMA_VERSION + 1, "ui": {"theme": "dark"}})
    _, report = SettingsStore(app_paths).load()
    assert "written by a newer HybridMCP" in report.problems[0]
    (kept,) = _broken_files(app_paths)
    assert json.loads(kept.read_text())["ui"]["theme"] == "dark"


def test_an_unreadable_settings_path_runs_on_defaults_and_leaves_it_alone(
    app_paths: AppPaths,
) -> None:
    app_paths.settings_file.mkdir()  # a directory where the file should be: reading fails
    settings, report = SettingsStore(app_paths).load()
    assert settings == Settings()
    assert "cannot read" in report.problems[0]
    assert app_paths.settings_file.is_dir()
    assert report.moved_aside_to is None


def _rename_dark_mode(data: SettingsData) -> SettingsData:
    ui = dict(data.get("ui", {}))
    ui["theme"] = "dark" if ui.pop("dark_mode", False) else "light"
    data["ui"] = ui
    return data


def _move_level(data: SettingsData) -> SettingsData:
    data["logging"] = {"level": data.pop("log_level", "INFO")}
    return data


def test_old_files_are_migrated_step_by_step_and_the_original_is_kept(
    app_paths: AppPaths,
) -> None:
    original = {"schema_version": 1, "ui": {"dark_mode": True}, "log_level": "DEBUG"}
    _write(app_paths, original)
    store = SettingsStore(
        app_paths, migrations={1: _rename_dark_mode, 2: _move_level}, current_version=3
    )
    settings, report = store.load()
    assert report.ok
    assert report.migrated_from == 1
    assert settings.ui.theme == "dark"
    assert settings.logging.level == "DEBUG"
    assert json.loads(app_paths.settings_file.read_text())["schema_version"] == 3
    backup = app_paths.config_dir / "settings.json.v1.bak"
    assert json.loads(backup.read_text()) == original
    settings_again, report_again = store.load()
    assert settings_again == settings
    assert report_again.migrated_from is None


def test_a_migration_that_fails_keeps_the_file_aside(app_paths: AppPaths) -> None:
    def broken(data: SettingsData) -> SettingsData:
        raise KeyError("ui")

    _write(app_paths, {"schema_version": 1})
    store = SettingsStore(app_paths, migrations={1: broken}, current_version=2)
    settings, report = store.load()
    assert settings == Settings()
    assert "upgrading from schema 1 failed" in report.problems[0]
    assert len(_broken_files(app_paths)) == 1


def test_a_missing_migration_step_is_reported(app_paths: AppPaths) -> None:
    _write(app_paths, {"schema_version": 1})
    _, report = SettingsStore(app_paths, migrations={}, current_version=2).load()
    assert "no migration from schema 1 to 2" in report.problems[0]


def test_saving_does_not_make_environment_overrides_permanent(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(app_paths)
    store.save(Settings.model_validate({"ui": {"theme": "light"}}))
    monkeypatch.setenv("HYBRIDMCP_UI__THEME", "dark")
    monkeypatch.setenv("HYBRIDMCP_LLM__LOCAL__LOAD_ON_START", "false")
    settings, _ = store.load()
    assert (settings.ui.theme, settings.llm.local.load_on_start) == ("dark", False)
    changed = settings.model_copy(
        update={"game": settings.game.model_copy(update={"difficulty": "hard"})}
    )
    store.save(changed)
    on_disk = json.loads(app_paths.settings_file.read_text())
    assert on_disk["ui"]["theme"] == "light"
    assert on_disk["llm"]["local"]["load_on_start"] is True
    assert on_disk["game"]["difficulty"] == "hard"


def test_a_value_the_user_changes_away_from_the_override_is_saved(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(app_paths)
    monkeypatch.setenv("HYBRIDMCP_UI__THEME", "dark")
    settings, _ = store.load()
    store.save(
        settings.model_copy(update={"ui": settings.ui.model_copy(update={"theme": "light"})})
    )
    assert json.loads(app_paths.settings_file.read_text())["ui"]["theme"] == "light"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "settings.json is nested deeper than 64 levels"),
        ('{"ui": {"theme": "' + "x" * (6 * 1024 * 1024) + '"}}', "settings.json is larger than"),
    ],
)
def test_a_hostile_settings_file_starts_on_defaults_and_keeps_the_file_aside(
    app_paths: AppPaths, content: str, problem: str
) -> None:
    _write(app_paths, content)
    settings, report = SettingsStore(app_paths).load()
    assert settings == Settings()
    (kept,) = _broken_files(app_paths)
    assert kept.read_text() == content
    assert report.problems[0].startswith(problem)
