"""Settings → Local model → Engine: the chosen model file's own engine settings, remembered.

Follows the model-path editor: choosing another file shows that file's settings (or the
defaults, for a file with none). Saving keeps them for that file; when it is the model in use,
it is loaded again with them, and if llama.cpp refuses them the previous settings are put back
and the model in use keeps working. Speculative decoding is one choice: off, prompt lookup, or
one of the installed GGUF files that can draft for this one (same tokenizer, smaller). The
KV cache's size follows the context, type and batch as they are edited.
"""

from __future__ import annotations

import asyncio
import html
import os
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from hybridmcp_app.config.model_settings import ModelSettingsStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import ConfigError, ModelLoadError, describe_validation_error
from hybridmcp_app.core.model_context import InferenceSettings, KvCacheType
from hybridmcp_app.llm.draft_choice import draft_candidates, installed_models
from hybridmcp_app.llm.gguf_header import GGUFHeaderError
from hybridmcp_app.llm.kv_cache_size import KvGeometry, describe_kv_cache, read_kv_geometry
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.ui.settings.qt_settings_form import QtSettingsForm


def _gpu_offload_supported() -> bool:
    import llama_cpp  # heavy: imported off the GUI thread, once the dialog is open

    return bool(llama_cpp.llama_supports_gpu_offload())


OFF, LOOKUP = "off", "lookup"
SPECULATIVE_FIELDS = frozenset({"prompt_lookup", "draft_model"})


def _model_facts(
    path: Path, service: LocalModelService, home: Path | None, models_dir: Path | None
) -> tuple[KvGeometry | None, list[Path]]:
    """The file's KV-cache shape, and the installed files that can draft for it (blocking)."""
    try:
        geometry = read_kv_geometry(path)
    except (OSError, GGUFHeaderError):
        geometry = None
    installed = installed_models(service.cache_dir, home, models_dir)
    return geometry, draft_candidates(path, installed)


def _same_file(a: Path | None, b: Path) -> bool:
    try:
        return a is not None and a.resolve() == b.resolve()
    except OSError:
        return False


class QtEngineSettings(QGroupBox):
    """Edits the engine settings of the file in ``path_editor`` (empty: the default model)."""

    def __init__(
        self,
        path_editor: QLineEdit,
        service: LocalModelService,
        tasks: BackgroundTasks,
        defaults: Callable[[], InferenceSettings],
        *,
        home: Path | None = None,
        app_models_dir: Path | None = None,
    ) -> None:
        """``home``, ``app_models_dir``: where to look for draft models beside the embedded
        ones (``model_scanner``'s folders)."""
        super().__init__("Engine settings for this model file")
        self._home, self._app_models_dir = home, app_models_dir
        self._geometry: KvGeometry | None = None
        self._path_editor = path_editor
        self._service = service
        self._tasks = tasks
        self._defaults = defaults
        self._file: Path | None = None
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.detected = QLabel(self)
        self.detected.setWordWrap(True)
        self.form = QtSettingsForm(InferenceSettings, path="", hidden=SPECULATIVE_FIELDS)
        self.speculative = QComboBox(self)
        self.speculative.setToolTip(
            "Draft tokens and check them in one batch: the same answer, faster when the drafts "
            "are right. A draft model must have this model's tokenizer and be smaller."
        )
        self.kv_size = QLabel(self)
        extra = QFormLayout()
        extra.addRow("Speculative decoding", self.speculative)
        extra.addRow("", self.kv_size)
        self.result = QLabel(self)
        self.result.setWordWrap(True)
        self.result.setProperty("role", "form-errors")
        self.save_button = QPushButton("Save for this model", self)
        self.save_button.setToolTip("Remember these settings for this file (reloads it if in use)")
        self.reset_button = QPushButton("Back to the defaults", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.detected)
        layout.addWidget(self.form)
        layout.addLayout(extra)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        for name in ("n_ctx", "n_batch"):
            spin = self.form.editors[name].widget
            assert isinstance(spin, QSpinBox)
            spin.valueChanged.connect(lambda _: self._show_kv_size())
        cache_type = self.form.editors["kv_cache_type"].widget
        assert isinstance(cache_type, QComboBox)
        cache_type.currentTextChanged.connect(lambda _: self._show_kv_size())
        self.save_button.clicked.connect(self.save)
        self.reset_button.clicked.connect(self.reset)
        self._stale = True  # read once shown: a hidden page costs nothing
        path_editor.textChanged.connect(lambda _: self._path_changed())
        self._set_enabled(False)
        if service.model_settings is None:
            self.heading.setText("Per-model settings are not available here.")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _path_changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.form, self.speculative, self.save_button, self.reset_button):
            widget.setEnabled(enabled)

    def refresh(self) -> asyncio.Task[None] | None:
        """Show the settings of the file now in the path editor."""
        if self._service.model_settings is None:
            return None
        self._stale = False
        self._set_enabled(False)
        self.heading.setText("Reading the model file…")
        return self._tasks.spawn(self._refresh(self._path_editor.text()), name="engine-settings")

    async def _refresh(self, text: str) -> None:
        store = self._service.model_settings
        assert store is not None
        chosen = Path(text.strip()) if text.strip() else None
        try:
            path = await self._service.model_file(chosen)
            remembered = await asyncio.to_thread(store.settings_for, path)
            gpu = await asyncio.to_thread(_gpu_offload_supported)
            geometry, drafts = await asyncio.to_thread(
                _model_facts, path, self._service, self._home, self._app_models_dir
            )
        except (ModelLoadError, ConfigError) as error:
            if text == self._path_editor.text():
                self._file = None
                self.heading.setText(html.escape(str(error)))
            return
        if text != self._path_editor.text():
            return  # another file was chosen meanwhile: its own refresh shows it
        self._file = path
        own = "its own settings" if remembered is not None else "the defaults (none saved yet)"
        self.heading.setText(f"<b>{html.escape(path.name)}</b> uses {own}.")
        self.detected.setText(
            f"Detected: {os.cpu_count() or 1} CPU cores; "
            + (
                "this llama.cpp can offload layers to a GPU."
                if gpu
                else "no GPU offload in this llama.cpp build (CPU only): GPU layers are ignored."
            )
        )
        settings = remembered or self._defaults()
        self._geometry = geometry
        self.form.load(settings.model_dump(mode="json"))
        self._show_speculative(settings, drafts)
        self._show_kv_size()
        self.result.setText(store.problem or "")
        self._set_enabled(True)

    def save(self) -> asyncio.Task[None] | None:
        """Validate, remember for the file, and reload it when it is the model in use."""
        for path in self.form.editors:
            self.form.mark_invalid(path, False)
        try:
            settings = InferenceSettings.model_validate(
                {**self.form.values(), **self._speculative_values()}
            )
        except ValidationError as error:
            lines = describe_validation_error(error)
            for item in error.errors():
                self.form.mark_invalid(".".join(str(part) for part in item["loc"]), True)
            self.result.setText("Not saved — " + "; ".join(lines))
            return None
        if self._file is None:
            return None
        self._set_enabled(False)
        self.result.setText("Saving…")
        return self._tasks.spawn(self._save(self._file, settings), name="engine-settings-save")

    def reset(self) -> asyncio.Task[None] | None:
        """Forget the file's own settings (and reload it with the defaults if in use)."""
        if self._file is None:
            return None
        self._set_enabled(False)
        return self._tasks.spawn(self._save(self._file, None), name="engine-settings-reset")

    async def _save(self, path: Path, settings: InferenceSettings | None) -> None:
        store = self._service.model_settings
        assert store is not None
        try:
            previous = await asyncio.to_thread(store.settings_for, path)
            if settings is None:
                await asyncio.to_thread(store.forget, path)
            else:
                await asyncio.to_thread(store.remember, path, settings)
            backend = self._service.backend
            in_use = backend is not None and _same_file(
                backend.context.identification.file_path, path
            )
            if not in_use:
                self.result.setText(f"Saved for {path.name}: used the next time it loads.")
                return
            self.result.setText(f"Saved; loading {path.name} again with these settings…")
            if await self._service.reload():
                loaded = self._service.backend
                refused = loaded.context.runtime.draft_refused if loaded is not None else None
                self.result.setText(
                    f"Saved for {path.name}, and loaded with these settings"
                    + (f"; without its draft model: {refused}." if refused else ".")
                )
                return
            await asyncio.to_thread(_put_back, store, path, previous)
            reason = self._service.status.error or "it did not load"
            self.result.setText(
                f"Not saved — llama.cpp refused these settings ({reason}); {path.name} keeps "
                "running with its previous settings."
            )
        except ConfigError as error:
            self.result.setText(f"Not saved — {error}")
        finally:
            self._set_enabled(True)
            if settings is None:
                await self._refresh(self._path_editor.text())

    def _show_speculative(self, settings: InferenceSettings, drafts: list[Path]) -> None:
        combo = self.speculative
        combo.clear()
        combo.addItem("Off", OFF)
        combo.addItem("Prompt lookup (copies from the prompt)", LOOKUP)
        for draft in drafts:
            combo.addItem(f"Draft model: {draft.name}", str(draft))
        chosen = settings.draft_model
        if chosen is not None and combo.findData(str(chosen)) < 0:
            combo.addItem(f"Draft model: {chosen.name} (not offered for this model)", str(chosen))
        value = str(chosen) if chosen is not None else LOOKUP if settings.prompt_lookup else OFF
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def _speculative_values(self) -> dict[str, object]:
        value = self.speculative.currentData() or LOOKUP
        if value in (OFF, LOOKUP):
            return {"prompt_lookup": value == LOOKUP, "draft_model": None}
        return {"prompt_lookup": True, "draft_model": value}  # lookup if the draft is refused

    def _show_kv_size(self) -> None:
        if self._file is None:
            self.kv_size.setText("")
            return
        values = self.form.values()
        kv_type: KvCacheType = values["kv_cache_type"]
        self.kv_size.setText(
            describe_kv_cache(self._geometry, values["n_ctx"], kv_type, values["n_batch"])
        )


def _put_back(store: ModelSettingsStore, path: Path, previous: InferenceSettings | None) -> None:
    if previous is None:
        store.forget(path)
    else:
        store.remember(path, previous)
