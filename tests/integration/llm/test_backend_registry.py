"""The providers' clients are built in one place and kept: the same client serves request after
request, a change of settings or key builds a new one, and the old one closes once the request
still using it ends. Against the llama.cpp server as the provider."""

from __future__ import annotations

import contextlib

import pytest
from pydantic import SecretStr

from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError, SecretStoreError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, StreamCompleted
from hybridmcp_app.core.llm_configs import ProvidersConfig
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.backend_registry import BackendRegistry
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from tests.helpers.app_turns import KEY_NAME, memory_secrets, settings_with_provider
from tests.helpers.llama_server import LlamaServer

pytestmark = pytest.mark.integration
QUESTION = InferenceRequest(
    messages=(ChatMessage(role="user", content="Say yes."),),
    parameters=ModelParameters(temperature=0, max_tokens=4),
)


class Providers:
    """Settings that the test changes between requests, as Settings → Save does."""

    def __init__(self, settings: Settings) -> None:
        self.current = settings.providers

    def __call__(self) -> ProvidersConfig:
        return self.current

    def change(self, **update: object) -> None:
        item = self.current.items[0].model_copy(update=update)
        self.current = self.current.model_copy(update={"items": (item,)})


async def answers(backend: OpenAICompatBackend) -> bool:
    events = [event async for event in backend.stream(QUESTION)]
    return isinstance(events[-1], StreamCompleted)


async def answered(registry: BackendRegistry) -> bool:
    async with registry.lease() as backend:
        return await answers(backend)


async def test_one_client_serves_request_after_request(provider_server: LlamaServer) -> None:
    providers = Providers(settings_with_provider(provider_server))
    registry = BackendRegistry(providers, memory_secrets(provider_server.api_key), resources_dir())
    async with registry.lease() as first:
        pass
    assert await answered(registry)
    async with registry.lease("lab") as again:
        assert again is first and not first.closed
    await registry.close()
    assert first.closed


async def test_a_changed_setting_builds_a_new_client_and_the_old_one_finishes_its_request(
    provider_server: LlamaServer,
) -> None:
    providers = Providers(settings_with_provider(provider_server))
    registry = BackendRegistry(providers, memory_secrets(provider_server.api_key), resources_dir())
    async with registry.lease() as old:
        providers.change(max_retries=1)
        async with registry.lease() as new:
            assert new is not old and new.config.max_retries == 1
        assert not old.closed  # still in use by this request
        assert await answers(old)
    assert old.closed and not new.closed
    await registry.close()


async def test_a_new_key_builds_a_new_client(provider_server: LlamaServer) -> None:
    secrets = memory_secrets(provider_server.api_key)
    registry = BackendRegistry(
        Providers(settings_with_provider(provider_server)), secrets, resources_dir()
    )
    async with registry.lease() as first:
        pass
    secrets.set(KEY_NAME, "a-key-typed-again")
    async with registry.lease() as second:
        assert second is not first
    assert first.closed
    await registry.close()


async def test_what_is_missing_is_said_before_any_request(provider_server: LlamaServer) -> None:
    nothing = BackendRegistry(
        Providers(settings_with_provider(None)), memory_secrets(), resources_dir()
    )
    with pytest.raises(BackendError, match="no provider is configured"):
        async with nothing.lease():
            pass
    configured = Providers(settings_with_provider(provider_server))
    no_key = BackendRegistry(configured, memory_secrets(), resources_dir())
    with pytest.raises(SecretStoreError, match=f"needs the API key '{KEY_NAME}'"):
        async with no_key.lease():
            pass
    with pytest.raises(
        BackendError, match=r"no enabled provider named 'other' \(configured: lab\)"
    ):
        async with no_key.lease("other"):
            pass


async def test_test_connection_uses_the_edited_provider_and_keeps_nothing(
    provider_server: LlamaServer,
) -> None:
    providers = Providers(settings_with_provider(provider_server))
    registry = BackendRegistry(providers, memory_secrets(), resources_dir())
    config = providers.current.items[0]
    report = await registry.probe(config, SecretStr(provider_server.api_key))
    assert report.ok, report.message
    assert report.models  # what the model field offers next
    refused = await registry.probe(config, SecretStr("a-wrong-key"))
    assert not refused.ok
    async with contextlib.AsyncExitStack() as nothing_kept:
        with pytest.raises(SecretStoreError):  # the typed key was not stored
            await nothing_kept.enter_async_context(registry.lease())
