"""``BackendRegistry``: the configured providers as chat backends, built in one place.

A provider's client is built from its settings, its key from the keychain (sent only to the
origin it was saved for) and the price table, then kept for the next request: it is rebuilt
only when the provider's settings or its key change. A replaced client is closed once the last
request that leased it ends, so a turn streaming while Settings is saved finishes undisturbed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.errors import BackendError, SecretStoreError
from hybridmcp_app.core.llm_configs import ProviderConfig, ProvidersConfig
from hybridmcp_app.llm.provider_catalog import PriceTable

if TYPE_CHECKING:  # the openai SDK is imported when the first provider is needed
    from hybridmcp_app.llm.openai_backend import ConnectionReport, OpenAICompatBackend


@dataclass(eq=False)
class _Client:
    """One built client, what it was built from, and the requests using it now."""

    config: ProviderConfig
    key: SecretStr | None
    backend: OpenAICompatBackend
    leases: int = 0
    retired: bool = False
    closed: bool = False


class BackendRegistry:
    """The providers of ``providers()`` (read on every request, so a saved change applies to
    the next one); ``prices`` are the shipped table and the user's ``prices.json``."""

    def __init__(
        self,
        providers: Callable[[], ProvidersConfig],
        secrets: SecretStore,
        resources: Path,
        user_prices: Path | None = None,
    ) -> None:
        self._providers, self._secrets = providers, secrets
        self._price_files = (resources, user_prices)
        self._prices: PriceTable | None = None
        self._clients: dict[str, _Client] = {}
        self._building = asyncio.Lock()

    def names(self) -> list[str]:
        """The enabled providers' names, in the settings' order."""
        return [p.name for p in self._providers().items if p.enabled]

    def config(self, name: str | None = None) -> ProviderConfig:
        """The provider named ``name`` (the active one for None), or a ``BackendError`` that
        says what to set up."""
        providers = self._providers()
        chosen = providers.choose(name)
        if chosen is not None:
            return chosen
        if name is None:
            raise BackendError("no provider is configured: add one in Settings → Providers")
        known = ", ".join(sorted(self.names())) or "none"
        raise BackendError(f"no enabled provider named {name!r} (configured: {known})")

    async def prices(self) -> PriceTable:
        """The price table, read off the event loop the first time it is needed."""
        if self._prices is None:
            self._prices = await asyncio.to_thread(PriceTable.load, *self._price_files)
        return self._prices

    async def prompt_price(self, config: ProviderConfig) -> float | None:
        """USD per prompt token of the provider's default model, when the table knows it."""
        price = (await self.prices()).price(config.default_model)
        return price.input / 1e6 if price is not None else None

    @contextlib.asynccontextmanager
    async def lease(self, name: str | None = None) -> AsyncIterator[OpenAICompatBackend]:
        """The provider's client for one request (or one game, one race)."""
        config = self.config(name)
        client = await self._client(config)
        client.leases += 1
        try:
            yield client.backend
        finally:
            client.leases -= 1
            if client.retired and client.leases == 0:
                await self._close(client)

    async def probe(self, config: ProviderConfig, key: SecretStr | None) -> ConnectionReport:
        """Settings → Test connection: a provider as edited (not yet saved), with the key
        typed on the page or stored for its origin; nothing is kept."""
        async with await self._build(config, key) as backend:
            return await backend.test_connection()

    async def close(self) -> None:
        """Close every client (the app quits)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await self._close(client)

    async def _client(self, config: ProviderConfig) -> _Client:
        async with self._building:  # two turns at once build one client
            key = await asyncio.to_thread(self._key, config)
            current = self._clients.get(config.name)
            if current is not None and current.config == config and current.key == key:
                return current
            backend = await self._build(config, key)
            self._clients[config.name] = _Client(config, key, backend)
            if current is not None:
                current.retired = True
                if current.leases == 0:
                    await self._close(current)
            return self._clients[config.name]

    async def _build(self, config: ProviderConfig, key: SecretStr | None) -> OpenAICompatBackend:
        """The one place a provider's client is made (a new kind of endpoint starts here)."""
        from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

        return OpenAICompatBackend(config, key, prices=await self.prices())

    def _key(self, config: ProviderConfig) -> SecretStr | None:
        if not config.api_key_secret:
            return None
        key = self._secrets.get(config.api_key_secret, origin=origin_of(str(config.base_url)))
        if key is None:
            raise SecretStoreError(
                f"provider {config.name!r} needs the API key {config.api_key_secret!r}, which "
                "is not in the keychain: add it in Settings → Providers"
            )
        return key

    @staticmethod
    async def _close(client: _Client) -> None:
        if not client.closed:
            client.closed = True
            await client.backend.close()
