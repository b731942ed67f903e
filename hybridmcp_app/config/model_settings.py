"""Engine settings remembered per model file (``model-settings.json`` in the config dir).

A file is known by its size and a hash of its first MiB and last 64 KiB (its GGUF header and
the end of its tensors), not by its path: a model moved or renamed keeps its settings, and a
different file written over the same path does not inherit them. Blocking: call it off the
event loop.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field

from hybridmcp_app.config.json_model_file import read_model_file, write_model_file
from hybridmcp_app.core.errors import ConfigError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.model_context import InferenceSettings

MODEL_SETTINGS_FILE = "model-settings.json"
HEAD_BYTES = 1 << 20
TAIL_BYTES = 64 << 10


def model_file_key(path: Path) -> str:
    """The file's identity: ``<size>-<sha256 of its head and tail, 16 hex digits>``.

    Raises ``ConfigError`` (one line) when the file cannot be read."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            digest = hashlib.sha256()
            handle.seek(0)
            digest.update(handle.read(HEAD_BYTES))
            if size > HEAD_BYTES:
                handle.seek(max(HEAD_BYTES, size - TAIL_BYTES))
                digest.update(handle.read(TAIL_BYTES))
    except OSError as error:
        raise ConfigError(f"cannot read the model file {path}: {error.strerror or error}") from None
    return f"{size}-{digest.hexdigest()[:16]}"


class RememberedModel(FrozenModel):
    """One model file's engine settings, with where it was last seen (shown, not used)."""

    file_name: str
    last_path: Path
    saved_at: datetime
    settings: InferenceSettings


class ModelSettingsFile(FrozenModel):
    """The whole file: model key → its settings."""

    version: int = 1
    models: dict[str, RememberedModel] = Field(default_factory=dict)


class ModelSettingsStore:
    """Reads and writes the per-model settings; thread-safe (one lock around each change).

    A file that cannot be read as settings is moved aside (``.bad``) rather than overwritten,
    and ``problem`` says so in one line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        self._lock = threading.Lock()

    def settings_for(self, model_file: Path) -> InferenceSettings | None:
        """The settings remembered for ``model_file``; None when it has none."""
        key = model_file_key(model_file)
        with self._lock:
            remembered = self._read().models.get(key)
        return remembered.settings if remembered is not None else None

    def remember(self, model_file: Path, settings: InferenceSettings) -> None:
        """Keep ``settings`` for ``model_file`` (replacing what it had)."""
        key = model_file_key(model_file)
        entry = RememberedModel(
            file_name=model_file.name,
            last_path=model_file,
            saved_at=datetime.now(UTC),
            settings=settings,
        )
        with self._lock:
            current = self._read()
            models = {**current.models, key: entry}
            self._write(current.model_copy(update={"models": models}))

    def forget(self, model_file: Path) -> bool:
        """Drop ``model_file``'s settings (it goes back to the defaults); False if it had none."""
        key = model_file_key(model_file)
        with self._lock:
            current = self._read()
            if key not in current.models:
                return False
            models = {name: entry for name, entry in current.models.items() if name != key}
            self._write(current.model_copy(update={"models": models}))
        return True

    def _read(self) -> ModelSettingsFile:
        data, problem = read_model_file(
            self.path, ModelSettingsFile, "the per-model settings start afresh"
        )
        if problem is not None:
            self.problem = problem
        return data

    def _write(self, data: ModelSettingsFile) -> None:
        write_model_file(self.path, data)
