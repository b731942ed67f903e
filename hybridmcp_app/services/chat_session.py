"""``ChatSession``: the window's conversation — one at a time, each turn run by the app's
``TurnRunner`` and saved in the history, even one stopped half-way, with what it sent besides
its prompt (a server prompt's messages, attached resources) so that ``regenerate`` sends it
all again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.inference import ChatMessage, ContextDocument
from hybridmcp_app.llm.local_model_service import LocalModelService
from hybridmcp_app.orchestration.conversation import ConversationRecord, ServerPrompt, TurnRecord
from hybridmcp_app.orchestration.history_store import HistoryStore
from hybridmcp_app.orchestration.library_sources import DEFAULT_SOURCES, LibrarySearch
from hybridmcp_app.orchestration.usage_ledger import SavingsPoint, UsageLedger
from hybridmcp_app.services.turn_runner import ChatEvent, Turn, TurnRunner

if TYPE_CHECKING:
    from hybridmcp_app.orchestration.run_context import ToolUse


@dataclass(frozen=True)
class Availability:
    """What a chat can use right now, for the view's empty and error states."""

    local: bool
    provider: str | None  # the provider's name, or None
    provider_problem: str | None = None


@dataclass(frozen=True)
class _Asked:
    """What a turn sends after the conversation before it (and keeps in its record)."""

    prompt: str
    server_prompt: ServerPrompt | None = None
    attachments: tuple[ContextDocument, ...] = ()
    retry_of: str | None = None


class ChatSession:
    """The current conversation, its history, and the ledger the Savings tab reads."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        secrets: SecretStore,
        local_model: LocalModelService,
        history: HistoryStore,
        turns: TurnRunner,
    ) -> None:
        self._settings, self._secrets, self._local_model = settings, secrets, local_model
        self.history, self._turns = history, turns
        self.conversation = ConversationRecord()

    def availability(self) -> Availability:
        settings = self._settings()
        active = settings.providers.choose()
        problem = None
        if active is not None and active.api_key_secret and not self._secrets.available:
            problem = "no keychain to read its API key from"
        return Availability(
            local=self._local_model.backend is not None,
            provider=active.name if active is not None else None,
            provider_problem=problem,
        )

    @property
    def ledger(self) -> UsageLedger:
        """Where every run's provider tokens and savings are recorded."""
        return self._turns.ledger

    def new_conversation(self) -> None:
        self.conversation = ConversationRecord()

    async def savings_history(self, since: float | None = None) -> list[SavingsPoint]:
        """What each run spared the provider, oldest first (for the savings view)."""
        return await asyncio.to_thread(self.ledger.savings_history, since)

    async def open(self, conversation_id: str) -> ConversationRecord | None:
        found = await asyncio.to_thread(self.history.get, conversation_id)
        if found is not None:
            self.conversation = found
        return found

    def ask(
        self,
        prompt: str,
        strategy_name: str,
        *,
        context: tuple[ContextDocument, ...] = (),
        server_prompt: ServerPrompt | None = None,
        raw: bool = False,
        tools: ToolUse | None = None,
        library: LibrarySearch | None = None,
        sources_k: int = DEFAULT_SOURCES,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Run one turn after the conversation so far (the ``TurnRunner``'s events, not
        copied); the turn is saved when it ends, also when it is stopped or fails, with its
        ``context`` (attached resources) and ``server_prompt`` (whose messages are sent after
        the conversation's, before the prompt)."""
        asked = _Asked(prompt, server_prompt, context)
        return self._run(
            asked, strategy_name, self.conversation.messages(),
            raw=raw, tools=tools, library=library, sources_k=sources_k,
        )  # fmt: skip

    def regenerate(
        self,
        strategy_name: str,
        *,
        raw: bool = False,
        tools: ToolUse | None = None,
        library: LibrarySearch | None = None,
        sources_k: int = DEFAULT_SOURCES,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Ask the last turn again as it was sent — the history before it, its server prompt's
        messages, its attachments, its prompt — as a new turn; the old one stays in the
        conversation but leaves its history. HybridMCPError when there is no turn."""
        if not self.conversation.turns:
            raise HybridMCPError("there is no turn to ask again")
        last = self.conversation.turns[-1]
        asked = _Asked(last.prompt, last.server_prompt, last.attachments, retry_of=last.id)
        return self._run(
            asked, strategy_name, self.conversation.messages(leave_out=last.id),
            raw=raw, tools=tools, library=library, sources_k=sources_k,
        )  # fmt: skip

    def _run(
        self,
        asked: _Asked,
        strategy_name: str,
        history: tuple[ChatMessage, ...],
        *,
        raw: bool,
        tools: ToolUse | None,
        library: LibrarySearch | None,
        sources_k: int,
    ) -> AsyncGenerator[ChatEvent, None]:
        """``asked`` after ``history``; its record keeps what ``asked`` sent."""
        server_prompt = asked.server_prompt
        preamble = server_prompt.messages if server_prompt is not None else ()
        turn = Turn(
            prompt=asked.prompt, strategy=strategy_name, history=(*history, *preamble),
            context=asked.attachments, raw=raw, sources_k=sources_k, local_without_provider=True,
        )  # fmt: skip
        kept = {"server_prompt": server_prompt, "attachments": asked.attachments,
                "retry_of": asked.retry_of}  # fmt: skip

        async def keep(record: TurnRecord) -> None:
            await self._keep(record.model_copy(update=kept))

        return self._turns.run(turn, tools=tools, library=library, record=keep)

    async def _keep(self, turn: TurnRecord) -> None:
        self.conversation = self.conversation.with_turn(turn)
        await asyncio.to_thread(self.history.save, self.conversation)
