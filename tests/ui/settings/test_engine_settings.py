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
