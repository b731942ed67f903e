"""The game outside the window (``hybridmcp game``, the turtle_soup MCP server): settings and
keychain of ``$HYBRIDMCP_HOME`` (or the user's), the local model loaded the first time a host
needs it, the offline embedder."""

from __future__ import annotations

from hybridmcp_app.config.paths import AppPaths, resources_dir
from hybridmcp_app.config.secrets import SecretStore, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.game.game_service import GameService
from hybridmcp_app.llm.backend_registry import BackendRegistry
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.llm.local_model_service import LocalModelService


class StandaloneGame:
    """A ``GameService`` with its own local model and embedder; ``close()`` frees them."""

    def __init__(self, paths: AppPaths | None = None) -> None:
        self.paths = (paths or AppPaths.from_environment()).ensure()
        self.settings: Settings = SettingsStore(self.paths).load()[0]
        self.local_model = LocalModelService(self.paths.cache_dir)
        embedder = OnnxEmbedder()
        self.providers = BackendRegistry(
            lambda: self.settings.providers, SecretStore(*system_keychain()), resources_dir(),
            self.paths.config_dir / "prices.json",
        )  # fmt: skip
        self.service = GameService(self.paths, lambda: self.settings, self.providers,
                                   self._local, lambda: embedder)  # fmt: skip

    async def _local(self) -> ChatBackend | None:
        if self.local_model.backend is None:
            await self.local_model.try_load(self.settings.llm.local)
        return self.local_model.backend

    async def close(self) -> None:
        await self.service.close()
        await self.providers.close()
        await self.local_model.unload()
