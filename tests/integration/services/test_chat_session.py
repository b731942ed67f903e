"""The chat's Qt-free session: real local model, real provider server, real SQLite history."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import BackendError
from hybridmcp_app.core.inference import ChatMessage, ContextDocument, TextDelta
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.conversation import ServerPrompt
from hybridmcp_app.orchestration.events import DecisionNote, LegEvent, RunCompleted
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.services.chat_session import ChatSession
from hybridmcp_app.services.turn_runner import ChatEvent, TurnRunner
from tests.helpers.app_turns import (
    KEY_NAME,
    memory_secrets,
    settings_with_provider,
    turn_runner,
)
from tests.helpers.echo_provider import echo_provider
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


async def answered(run: AsyncIterator[ChatEvent]) -> None:
    events = [event async for event in run]
    assert isinstance(events[-1], RunCompleted)


async def test_regenerate_resends_a_server_prompt_and_attachments_and_the_history_keeps_them(
    app_paths: AppPaths, model_cache: Path
) -> None:
    briefing = ServerPrompt(
        server="ev", name="review",
        messages=(ChatMessage(role="user", content="You review the orchard report."),
                  ChatMessage(role="assistant", content="Ready to review.")),
    )  # fmt: skip
    orchard = ContextDocument(title="(resource notes://orchard from ev)", text="41 pear trees.")
    with echo_provider() as echo:
        settings = Settings.model_validate({"providers": {
            "items": [{"name": "echo", "base_url": echo.base_url, "default_model": "echo",
                       "api_key_secret": KEY_NAME}],
            "active": "echo",
        }})  # fmt: skip
        secrets = memory_secrets(echo.api_key)
        local = LocalModelService(model_cache)  # not loaded: the provider answers
        turns = turn_runner(app_paths, settings, local, secrets)
        history = HistoryStore(app_paths.data_dir / "history.sqlite3")
        session = ChatSession(lambda: settings, secrets, local, history, turns)
        try:
            await answered(session.ask("What is this?", "provider"))
            await answered(session.ask(
                "How many pear trees?", "provider", server_prompt=briefing, context=(orchard,)
            ))  # fmt: skip
            await answered(session.regenerate("provider"))
            await answered(session.ask("And apples?", "provider"))
        finally:
            await turns.providers.close()

    typed, first, again, follow_up = echo.prompts
    assert again == first  # the same request: history, server prompt, attachment, prompt
    assert first.startswith(f"What is this?\n\n{typed}\n\nYou review the orchard report."
                            "\n\nReady to review.\n\n")  # fmt: skip
    assert "41 pear trees." in first and first.endswith("How many pear trees?")
    question = (
        "Context:\n[1] (resource notes://orchard from ev)\n41 pear trees.\n\n"
        "Question: How many pear trees?"
    )
    # The turn asked again left the history: the answer to that question is in it once.
    assert follow_up == "\n\n".join([
        "What is this?", typed, "You review the orchard report.", "Ready to review.",
        question, again, "And apples?",
    ])  # fmt: skip
    conversation = session.conversation
    assert [t.retry_of for t in conversation.turns] == [None, None, conversation.turns[1].id, None]
    assert conversation.turns[2].server_prompt == briefing
    assert conversation.turns[2].attachments == (orchard,)
    assert HistoryStore(app_paths.data_dir / "history.sqlite3").get(conversation.id) == (
        conversation
    )
