"""The app's local model: load in the background, swap only on success, report every step."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app.config.model_settings import ModelSettingsStore
from hybridmcp_app.core.errors import ConfigError, ModelLoadError
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import (
    DEFAULT_EMBEDDED,
    EmbeddedModel,
    embedded_for_file,
)

if TYPE_CHECKING:
    from hybridmcp_app.llm.llama_backend import LlamaCppBackend

log = logging.getLogger("hybridmcp.llm.local")


class LocalModelState(Enum):
    UNLOADED = "unloaded"
    LOADING = "loading"
    READY = "ready"


@dataclass(frozen=True)
class LocalModelStatus:
    """What the UI shows: the state, the model in use, and the last load error if any."""

    state: LocalModelState
    label: str = ""
    error: str | None = None


StatusListener = Callable[[LocalModelStatus], None]


class LocalModelService:
    """Owns the current ``LlamaCppBackend``. A failed load keeps the previous model working."""

    def __init__(self, cache_dir: Path, model_settings: ModelSettingsStore | None = None) -> None:
        """``model_settings``: engine settings remembered per model file (without it, every
        file loads with the config's ``inference``)."""
        self._cache_dir = cache_dir
        self.model_settings = model_settings
        self._config: LocalLLMConfig | None = None
        self._own_settings: InferenceSettings | None = None  # the loaded file's, if it has some
        self._backend: LlamaCppBackend | None = None
        self._status = LocalModelStatus(LocalModelState.UNLOADED)
        self._listeners: list[StatusListener] = []
        self._lock = asyncio.Lock()

    @property
    def cache_dir(self) -> Path:
        """Where the embedded models' files are prepared."""
        return self._cache_dir

    @property
    def backend(self) -> LlamaCppBackend | None:
        return self._backend

    @property
    def status(self) -> LocalModelStatus:
        return self._status

    def subscribe(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener`` with every status from now on; returns the unsubscribe call."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _set(self, status: LocalModelStatus) -> None:
        self._status = status
        for listener in list(self._listeners):
            listener(status)

    async def load(self, config: LocalLLMConfig) -> LlamaCppBackend:
        """Load ``config``'s model; on failure raise ``ModelLoadError`` and keep the old one."""
        from hybridmcp_app.llm.llama_backend import LlamaCppBackend  # numpy: not at start-up

        async with self._lock:
            previous = self._backend
            chosen = config.model_path
            label = DEFAULT_EMBEDDED.label if chosen is None else chosen.name
            self._set(LocalModelStatus(LocalModelState.LOADING, label))
            try:
                path, embedded = await asyncio.to_thread(self._locate, chosen)
                own = await asyncio.to_thread(self._settings_for, path)
                backend = await LlamaCppBackend.open(
                    path,
                    own or config.inference,
                    display_label=embedded.label if embedded is not None else None,
                )
            except ModelLoadError as error:
                log.warning("local model not loaded: %s", error)
                self._set(self._settled(previous, error=str(error)))
                raise
            self._backend, self._config, self._own_settings = backend, config, own
            self._set(LocalModelStatus(LocalModelState.READY, backend.model_name))
        if previous is not None:
            await previous.close()
        return backend

    def _locate(self, chosen: Path | None) -> tuple[Path, EmbeddedModel | None]:
        """The file to load, and which embedded model it is (if one); blocking."""
        if chosen is None:
            return DEFAULT_EMBEDDED.locate(self._cache_dir), DEFAULT_EMBEDDED
        path = chosen.expanduser()
        return path, embedded_for_file(path, self._cache_dir)

    def _settings_for(self, path: Path) -> InferenceSettings | None:
        """The file's own engine settings, None when it has none (blocking)."""
        if self.model_settings is None:
            return None
        try:
            return self.model_settings.settings_for(path)
        except ConfigError as error:  # the file's own read error comes from the load itself
            log.warning("per-model settings not read: %s", error)
            return None

    def parameters(self, config: LocalLLMConfig) -> ModelParameters:
        """Sampling defaults: the loaded file's own settings where it has some, else
        ``config``'s as they are now (not as they were when the model loaded)."""
        own = self._own_settings if self._backend is not None else None
        return (own or config.inference).parameters

    async def model_file(self, chosen: Path | None) -> Path:
        """The file ``model_path = chosen`` loads (the default embedded model for None)."""
        path, _ = await asyncio.to_thread(self._locate, chosen)
        return path

    async def reload(self) -> bool:
        """Load the model in use again (its settings changed); False, with the reason in
        ``status``, when that fails: the model in use then keeps working."""
        return (
            self._config is not None
            and self._backend is not None
            and await self.try_load(self._config)
        )

    async def embedded_file(self, model: EmbeddedModel) -> Path:
        """``model``'s GGUF file, prepared if needed (Gemma's chunks are joined once)."""
        return await asyncio.to_thread(model.locate, self._cache_dir)

    async def try_load(self, config: LocalLLMConfig) -> bool:
        """Like ``load``, but a failure is only reported through ``status`` (for the UI)."""
        try:
            await self.load(config)
        except ModelLoadError:
            return False
        return True

    async def settled(self) -> LocalModelStatus:
        """Wait for a load in progress to end (at once if none is); returns the status then."""
        async with self._lock:
            return self._status

    async def unload(self) -> None:
        async with self._lock:
            backend, self._backend = self._backend, None
            self._set(LocalModelStatus(LocalModelState.UNLOADED))
        if backend is not None:
            await backend.close()

    def close_now(self, timeout_s: float = 2.0) -> bool:
        """At exit: stop the worker thread without an event loop (bounded wait).

        Returns False if the thread was still busy after ``timeout_s``."""
        backend, self._backend = self._backend, None
        return backend is None or backend.close_now(timeout_s)

    @staticmethod
    def _settled(backend: LlamaCppBackend | None, *, error: str) -> LocalModelStatus:
        if backend is None:
            return LocalModelStatus(LocalModelState.UNLOADED, error=error)
        return LocalModelStatus(LocalModelState.READY, backend.model_name, error=error)
