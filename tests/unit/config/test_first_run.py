"""The first-run wizard's answers applied to the settings (no Qt)."""

from pathlib import Path

from hybridmcp_app.config.first_run import FirstRunChoices, settings_after, settings_after_skip
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.llm_configs import ProviderConfig, ProvidersConfig


def test_the_answers_set_model_and_providers_and_add_folders_without_repeats() -> None:
    before = Settings.model_validate({"documents": {"watch_folders": ["/data/a"]}})
    provider = ProviderConfig.model_validate(
        {"name": "Work", "base_url": "https://api.example.com/v1", "default_model": "m"}
    )
    choices = FirstRunChoices(
        model_path=Path("/models/qwen.gguf"),
        providers=ProvidersConfig(items=(provider,), active="Work"),
        folders=(Path("/data/b"), Path("/data/a")),
        servers={"documents": False},
    )
    after = settings_after(before, choices)
    assert after.llm.local.model_path == Path("/models/qwen.gguf")
    assert after.llm.local.load_on_start == before.llm.local.load_on_start
    assert after.providers.choose() == provider
    assert after.documents.watch_folders == (Path("/data/a"), Path("/data/b"))
    assert after.ui.first_run_completed
    assert not before.ui.first_run_completed
    Settings.model_validate(after.model_dump(mode="json"))  # still a valid settings tree


def test_choosing_the_embedded_model_clears_a_chosen_file() -> None:
    before = Settings.model_validate({"llm": {"local": {"model_path": "/models/old.gguf"}}})
    assert settings_after(before, FirstRunChoices()).llm.local.model_path is None


def test_skipping_changes_nothing_but_the_first_run_mark() -> None:
    before = Settings.model_validate({"llm": {"local": {"model_path": "/models/old.gguf"}}})
    after = settings_after_skip(before)
    assert after.ui.first_run_completed
    assert after.model_copy(update={"ui": before.ui}) == before
