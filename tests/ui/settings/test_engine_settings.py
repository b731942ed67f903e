"""Settings → Local model → engine settings of the chosen model file (real SmolLM2 model)."""

from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.settings.qt_engine_settings import QtEngineSettings
from hybridmcp_app.ui.settings.qt_settings_dialog import PAGE_INDEX
from tests.helpers.gguf_files import header_only_copy
from tests.helpers.waiting import wait_until


def engine_page(
    window: MainWindow, qt_loop: qasync.QEventLoop, model_file: Path
) -> QtEngineSettings:
    """The settings dialog's engine settings, showing ``model_file``."""
    dialog = window.open_settings()
    dialog.sections.setCurrentRow(PAGE_INDEX["Local model"])
    path_editor = dialog.findChild(QLineEdit, "llm.local.model_path")
    assert path_editor is not None
    path_editor.setText(str(model_file))
    engine = dialog.engine_settings
    assert isinstance(engine, QtEngineSettings)
    qt_loop.run_until_complete(wait_until(lambda: engine.save_button.isEnabled()))
    assert model_file.name in engine.heading.text()
    return engine


def editor(engine: QtEngineSettings, name: str) -> object:
    return engine.form.editors[name].widget


def test_engine_settings_saved_for_the_model_in_use_reload_it_with_them_and_are_remembered(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, model_cache: Path
) -> None:
    window = make_window()
    service = window.context.local_model
    model_file = SMOLLM2.locate(model_cache)
    qt_loop.run_until_complete(service.load(LocalLLMConfig(model_path=model_file)))
    engine = engine_page(window, qt_loop, model_file)
    assert "uses the defaults" in engine.heading.text()
    assert "CPU" in engine.detected.text() or "GPU" in engine.detected.text()
    context_spin, cache_type, flash = (
        editor(engine, name) for name in ("n_ctx", "kv_cache_type", "flash_attention")
    )
    assert isinstance(context_spin, QSpinBox) and isinstance(cache_type, QComboBox)
    assert isinstance(flash, QCheckBox)
    context_spin.setValue(1280)
    cache_type.setCurrentText("q8_0")
    flash.setChecked(True)

    task = engine.save()
    assert task is not None
    qt_loop.run_until_complete(task)
    assert "loaded with these settings" in engine.result.text()
    backend = service.backend
    assert backend is not None
    runtime = backend.context.runtime
    assert (runtime.n_ctx, runtime.kv_cache_type, runtime.flash_attention) == (1280, "q8_0", True)

    reopened = engine_page(window, qt_loop, model_file)  # a new dialog reads them back
    assert "uses its own settings" in reopened.heading.text()
    reopened_context = editor(reopened, "n_ctx")
    assert isinstance(reopened_context, QSpinBox) and reopened_context.value() == 1280


def test_a_quantised_cache_without_flash_attention_is_refused_in_one_line_and_nothing_is_saved(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, model_cache: Path
) -> None:
    window = make_window()
    model_file = SMOLLM2.locate(model_cache)
    engine = engine_page(window, qt_loop, model_file)
    cache_type = editor(engine, "kv_cache_type")
    assert isinstance(cache_type, QComboBox)
    cache_type.setCurrentText("q4_0")

    assert engine.save() is None
    text = engine.result.text()
    assert text.startswith("Not saved — ") and "\n" not in text
    assert "q4_0 KV cache needs flash attention" in text
    store = window.context.local_model.model_settings
    assert store is not None and store.settings_for(model_file) is None


def test_the_kv_cache_size_follows_the_context_and_the_cache_type_as_they_are_edited(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, model_cache: Path
) -> None:
    window = make_window()
    engine = engine_page(window, qt_loop, SMOLLM2.locate(model_cache))
    context_spin, cache_type, flash = (
        editor(engine, name) for name in ("n_ctx", "kv_cache_type", "flash_attention")
    )
    assert isinstance(context_spin, QSpinBox) and isinstance(cache_type, QComboBox)
    assert isinstance(flash, QCheckBox)
    context_spin.setValue(4096)
    assert engine.kv_size.text() == "KV cache: 90 MiB at 4,096 tokens (f16)"
    context_spin.setValue(8192)
    flash.setChecked(True)
    cache_type.setCurrentText("q8_0")
    assert engine.kv_size.text() == "KV cache: 96 MiB at 8,192 tokens (q8_0)"


def test_only_installed_smaller_files_with_the_models_tokenizer_are_offered_as_draft_models(
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    model_cache: Path,
    embedded_model: Path,
) -> None:
    window = make_window()
    models_dir = window.context.paths.data_dir / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    smollm2 = SMOLLM2.locate(model_cache)
    small = header_only_copy(smollm2, models_dir / "small-smollm2.gguf")
    engine = engine_page(window, qt_loop, smollm2)
    combo = engine.speculative
    offered = [combo.itemText(index) for index in range(combo.count())]
    assert offered == [
        "Off",
        "Prompt lookup (copies from the prompt)",
        f"Draft model: {small.name}",
    ]
    assert combo.currentText().startswith("Prompt lookup")  # the default
    combo.setCurrentIndex(2)

    task = engine.save()
    assert task is not None
    qt_loop.run_until_complete(task)
    store = window.context.local_model.model_settings
    assert store is not None
    saved = store.settings_for(smollm2)
    assert saved is not None and saved.draft_model == small

    gemma = engine_page(
        window, qt_loop, embedded_model
    )  # another tokenizer: SmolLM2 is not offered
    assert [gemma.speculative.itemText(i) for i in range(gemma.speculative.count())] == [
        "Off",
        "Prompt lookup (copies from the prompt)",
    ]
