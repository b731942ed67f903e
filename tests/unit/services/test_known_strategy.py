"""The settings' default strategy is one the registry knows: every registered strategy is
accepted as it is, an unknown one (renamed, removed, mistyped) is replaced and reported while
the rest of the settings file applies."""

from __future__ import annotations

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsLoadReport, SettingsStore
from hybridmcp_app.core.llm_configs import DEFAULT_STRATEGY
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.services.app_services import with_known_strategy


def with_default(name: str) -> Settings:
    return Settings.model_validate(
        {"llm": {"hybrid": {"default_strategy": name}}, "ui": {"theme": "dark"}}
    )


def test_every_registered_strategy_is_a_default_the_settings_keep() -> None:
    for name in STRATEGIES.names:
        settings, report = with_known_strategy(with_default(name), SettingsLoadReport())
        assert settings.llm.hybrid.default_strategy == name and report.ok


def test_an_unknown_default_is_replaced_and_said_and_the_rest_of_the_file_applies(
    app_paths: AppPaths,
) -> None:
    SettingsStore(app_paths.ensure()).save(with_default("magic"))
    settings, report = with_known_strategy(*SettingsStore(app_paths).load())
    assert settings.llm.hybrid.default_strategy == DEFAULT_STRATEGY
    assert settings.ui.theme == "dark"  # the file was used
    assert not report.ok and report.moved_aside_to is None
    message = report.user_message()
    assert "there is no strategy 'magic'" in message and "boost, draft_refine" in message
    assert message.endswith("the rest of the file applies.")
