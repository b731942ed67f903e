"""The chat's Qt-free session: real local model, real provider server, real SQLite history."""

from collections.abc import AsyncIterator, Callable

import pytest

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import TextDelta
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.events import DecisionNote, LegEvent, RunCompleted
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.services.chat_session import ChatSession
from hybridmcp_app.services.turn_runner import TurnRunner
from tests.helpers.app_turns import memory_secrets, settings_with_provider, turn_runner
from tests.helpers.llama_server import LlamaServer

SessionFor = Callable[..., ChatSession]


@pytest.fixture
async def session_for(
    app_paths: AppPaths, local_model: LocalModelService
) -> AsyncIterator[SessionFor]:
    """Chat sessions over the app's turns; their providers' clients are closed at the end."""
    made: list[TurnRunner] = []

    def factory(settings: Settings, key: str = "") -> ChatSession:
        secrets = memory_secrets(key)
        turns = turn_runner(app_paths, settings, local_model, secrets)
        made.append(turns)
        history = HistoryStore(app_paths.data_dir / "history.sqlite3")
        return ChatSession(lambda: settings, secrets, local_model, history, turns)

    yield factory
    for turns in made:
        await turns.providers.close()


async def test_turns_stream_side_by_side_and_are_kept_in_the_history(
    app_paths: AppPaths, provider_server: LlamaServer, session_for: SessionFor
) -> None:
    session = session_for(settings_with_provider(provider_server), provider_server.api_key)
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
    app_paths: AppPaths, provider_server: LlamaServer, session_for: SessionFor
) -> None:
    session = session_for(settings_with_provider(provider_server), provider_server.api_key)
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


async def test_without_a_provider_hybrid_strategies_answer_locally_and_provider_only_says_why(
    session_for: SessionFor,
) -> None:
    session = session_for(settings_with_provider(None))
    assert session.availability().provider is None
    events = [e async for e in session.ask("hi", "parallel")]
    assert isinstance(events[0], DecisionNote) and "no provider is set up" in events[0].text
    assert isinstance(events[-1], RunCompleted)
    trace = events[-1].trace
    assert (trace.strategy, trace.final_leg, trace.saving) == ("local", "local", "none")
    with pytest.raises(BackendError, match="no provider is configured"):
        async for _ in session.ask("hi", "provider"):
            pass
