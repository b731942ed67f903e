"""The API's orchestrators over what the app has: its local model (waiting for one that is
still loading), its providers (each request gets the provider's client, closed afterwards), its
embedder and answer cache, and its usage ledger, so API runs count in the Savings tab."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.llm.chat_backend import ChatBackend
from hybridmcp_app.orchestration.chat_session import ChatSession
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategy import Strategy


class AppOrchestrators:
    """An ``OrchestratorFactory`` for ``OpenAIApi`` over the app's services."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        secrets: SecretStore,
        local_backend: Callable[[], Awaitable[ChatBackend | None]],
        chat: ChatSession,
    ) -> None:
        self._settings, self._secrets = settings, secrets
        self._local_backend, self._chat = local_backend, chat

    def providers(self) -> list[str]:
        return [p.name for p in self._settings().providers.items if p.enabled]

    @contextlib.asynccontextmanager
    async def __call__(
        self, strategy: Strategy, provider_name: str | None
    ) -> AsyncIterator[LLMOrchestrator]:
        from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

        settings = self._settings()
        local = await self._local_backend() if strategy.needs_local else None
        if strategy.needs_local and local is None:
            raise BackendError("the local model is not loaded")
        provider = None
        if strategy.needs_provider:
            config = settings.providers.choose(provider_name)
            if config is None:
                raise BackendError("no provider is configured: add one in Settings → Providers")
            provider = await asyncio.to_thread(
                OpenAICompatBackend.from_settings, config, self._secrets
            )
        try:
            embedder = (
                await asyncio.to_thread(self._chat.shared_embedder)
                if strategy.needs_embedder else None
            )  # fmt: skip
            chat = self._chat
            yield LLMOrchestrator(local, provider, settings.llm.hybrid, embedder=embedder,
                                  cache=chat.semantic_cache, ledger=chat.ledger)  # fmt: skip
        finally:
            if provider is not None:
                await provider.close()
