"""Engine settings remembered per model file, known by its contents rather than its path."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from hybridmcp_app.config.model_settings import ModelSettingsStore, model_file_key
from hybridmcp_app.core.errors import ConfigError, describe_validation_error
from hybridmcp_app.core.model_context import InferenceSettings


def model_file(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def test_settings_are_remembered_per_file_and_survive_a_new_store(tmp_path: Path) -> None:
    first = model_file(tmp_path, "a.gguf", b"GGUF" + b"a" * 5000)
    second = model_file(tmp_path, "b.gguf", b"GGUF" + b"b" * 5000)
    store = ModelSettingsStore(tmp_path / "model-settings.json")
    chosen = InferenceSettings(n_ctx=2048, kv_cache_type="q8_0", flash_attention=True)
    store.remember(first, chosen)
    store.remember(second, InferenceSettings(n_ctx=512))

    reopened = ModelSettingsStore(tmp_path / "model-settings.json")
    assert reopened.settings_for(first) == chosen
    assert reopened.settings_for(second) == InferenceSettings(n_ctx=512)


def test_a_moved_file_keeps_its_settings_and_a_new_file_at_its_path_does_not(
    tmp_path: Path,
) -> None:
    original = model_file(tmp_path, "model.gguf", b"GGUF" + b"x" * 3_000_000)
    store = ModelSettingsStore(tmp_path / "model-settings.json")
    store.remember(original, InferenceSettings(n_threads=1))
    moved = original.rename(tmp_path / "renamed.gguf")
    assert store.settings_for(moved) == InferenceSettings(n_threads=1)
    replacement = model_file(tmp_path, "model.gguf", b"GGUF" + b"y" * 3_000_000)
    assert store.settings_for(replacement) is None


def test_the_key_reads_the_end_of_a_large_file_too(tmp_path: Path) -> None:
    head = b"GGUF" + b"h" * 2_000_000
    one = model_file(tmp_path, "one.gguf", head + b"tail-one")
    two = model_file(tmp_path, "two.gguf", head + b"tail-two")
    assert model_file_key(one) != model_file_key(two)


def test_forgetting_returns_a_file_to_the_defaults(tmp_path: Path) -> None:
    path = model_file(tmp_path, "a.gguf", b"GGUF-a")
    store = ModelSettingsStore(tmp_path / "model-settings.json")
    store.remember(path, InferenceSettings(n_batch=64))
    assert store.forget(path) is True
    assert store.settings_for(path) is None
    assert store.forget(path) is False


def test_a_damaged_settings_file_is_kept_aside_and_explained_in_one_line(tmp_path: Path) -> None:
    path = model_file(tmp_path, "a.gguf", b"GGUF-a")
    settings_file = tmp_path / "model-settings.json"
    settings_file.write_text("{not json", encoding="utf-8")
    store = ModelSettingsStore(settings_file)
    assert store.settings_for(path) is None
    assert store.problem is not None and "\n" not in store.problem
    assert "model-settings.json.bad" in store.problem
    assert (tmp_path / "model-settings.json.bad").read_text(encoding="utf-8") == "{not json"
    store.remember(path, InferenceSettings(n_batch=64))
    assert store.settings_for(path) == InferenceSettings(n_batch=64)


def test_a_missing_model_file_is_reported_in_one_line(tmp_path: Path) -> None:
    store = ModelSettingsStore(tmp_path / "model-settings.json")
    with pytest.raises(ConfigError, match="cannot read the model file") as raised:
        store.settings_for(tmp_path / "gone.gguf")
    assert "\n" not in str(raised.value)


def test_a_quantised_kv_cache_without_flash_attention_is_refused_in_one_line() -> None:
    with pytest.raises(ValidationError) as raised:
        InferenceSettings(kv_cache_type="q4_0", flash_attention=False)
    lines = describe_validation_error(raised.value)
    assert len(lines) == 1
    assert "q4_0 KV cache needs flash attention" in lines[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_ctx", 100, "n_ctx: Input should be greater than or equal to 256"),
        ("kv_cache_type", "q2_k", "kv_cache_type: Input should be 'f16', 'q8_0' or 'q4_0'"),
        ("n_batch", 0, "n_batch: Input should be greater than or equal to 1"),
    ],
)
def test_bad_engine_values_are_refused_with_one_line_each(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        InferenceSettings.model_validate({field: value})
    assert describe_validation_error(raised.value) == [message]
