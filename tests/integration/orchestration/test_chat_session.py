"""The chat's Qt-free session: real local model, real provider server, real SQLite history."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import TextDelta
from hybridmcp_app.core.llm_configs import LocalLLMConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.chat_session import ChatSession
from hybridmcp_app.orchestration.events import LegEvent, RunCompleted
from hybridmcp_app.orchestration.history_store import HistoryStore
from tests.helpers.llama_server import LlamaServer
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S


def settings_with_provider(server: LlamaServer | None) -> Settings:
    data: dict[str, object] = {
        "llm": {"local": {"inference": {"parameters": {"temperature": 0, "max_tokens": 12}}}}
    }
    if server is not None:
        data["providers"] = {
            "items": [{"name": "lab", "base_url": server.base_url, "default_model": "gemma",
                       "api_key_secret": "LAB_KEY", "timeout_s": PATIENCE_S,
                       "first_token_timeout_s": PATIENCE_S}],
            "active": "lab",
        }  # fmt: skip
    return Settings.model_validate(data)


@pytest.fixture
async def local_model(model_cache: Path) -> AsyncIterator[LocalModelService]:
    service = LocalModelService(model_cache)
    await service.load(LocalLLMConfig(inference=InferenceSettings(n_ctx=1024)))
    yield service
    await service.unload()


def session_for(
    app_paths: AppPaths, settings: Settings, local_model: LocalModelService, key: str = ""
) -> ChatSession:
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
    if key:
        secrets.set("LAB_KEY", key)
    history = HistoryStore(app_paths.data_dir / "history.sqlite3")
    return ChatSession(app_paths, lambda: settings, secrets, local_model, history)


async def test_turns_stream_side_by_side_and_are_kept_in_the_history(
    app_paths: AppPaths, provider_server: LlamaServer, local_model: LocalModelService
) -> None:
    session = session_for(
        app_paths, settings_with_provider(provider_server), local_model, provider_server.api_key
    )
    assert session.availability().provider == "lab"
    legs = {
        e.leg async for e in session.ask("Name a colour.", "parallel") if isinstance(e, LegEvent)
    }
    assert legs == {"local", "provider"}
    events = [e async for e in session.ask("And another one?", "parallel")]
    assert isinstance(events[-1], RunCompleted)
    conversation = session.conversation
    assert [t.prompt for t in conversation.turns] == ["Name a colour.", "And another one?"]
    assert {p.leg for p in conversation.turns[0].panes} == {"local", "provider"}
    assert len(conversation.messages()) == 4  # two prompts, two chosen answers
    reopened = HistoryStore(app_paths.data_dir / "history.sqlite3").get(conversation.id)
    assert reopened == conversation


async def test_a_stopped_turn_is_saved_with_the_text_streamed_so_far(
    app_paths: AppPaths, provider_server: LlamaServer, local_model: LocalModelService
) -> None:
    session = session_for(
        app_paths, settings_with_provider(provider_server), local_model, provider_server.api_key
    )
    seen = ""
    run = session.ask("Tell a long story.", "local")
    async for event in run:
        if isinstance(event, LegEvent) and isinstance(event.event, TextDelta):
            seen += event.event.text
            if len(seen) > 5:
                break
    await run.aclose()
    (turn,) = session.conversation.turns
    assert turn.partial
    assert turn.panes[0].text == seen
    stored = session.history.get(session.conversation.id)
    assert stored is not None and stored.turns[0].partial


async def test_without_a_provider_hybrid_strategies_say_what_to_do_and_local_still_works(
    app_paths: AppPaths, local_model: LocalModelService
) -> None:
    session = session_for(app_paths, settings_with_provider(None), local_model)
    assert session.availability().provider is None
    with pytest.raises(BackendError, match="no provider is configured"):
        async for _ in session.ask("hi", "parallel"):
            pass
    events = [e async for e in session.ask("hi", "local")]
    assert isinstance(events[-1], RunCompleted)
