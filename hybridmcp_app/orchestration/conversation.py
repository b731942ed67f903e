"""A conversation as the chat view keeps it: turns, each with one pane per model, and branches.

A turn keeps what it sent besides its prompt (a server prompt's earlier messages, the MCP
resources attached), so the history replays it and Regenerate sends it again."""

from __future__ import annotations

import time
import uuid

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage, ContextDocument
from hybridmcp_app.orchestration.context_prompt import render_context
from hybridmcp_app.orchestration.events import HybridTrace
from hybridmcp_app.orchestration.library_sources import SourceCitation


def _new_id() -> str:
    return uuid.uuid4().hex


class PaneRecord(FrozenModel):
    """One model's answer in a turn, with what it cost."""

    leg: str
    backend: str
    model: str = ""
    role: str = "answer"
    text: str = ""
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token_s: float | None = None
    tokens_per_s: float | None = None
    total_s: float | None = None
    cost_usd: float | None = None


class ServerPrompt(FrozenModel):
    """The server prompt (a ``/command``) a turn came from, with the messages it put before
    the turn's prompt."""

    server: str
    name: str
    messages: tuple[ChatMessage, ...] = ()

    def line(self) -> str:
        count = len(self.messages)
        return f"/{self.name} from {self.server} — {count} earlier message" + "s" * (count != 1)


def about_lines(
    server_prompt: ServerPrompt | None, attachments: tuple[ContextDocument, ...]
) -> list[str]:
    """Short lines saying where a prompt came from and what went with it."""
    lines = [server_prompt.line()] if server_prompt is not None else []
    return lines + [f"📎 {document.title or 'attached text'}" for document in attachments]


class TurnRecord(FrozenModel):
    """One prompt and every pane's answer; ``chosen_leg`` is the answer the chat continues from."""

    id: str = Field(default_factory=_new_id)
    created: float = Field(default_factory=time.time)
    prompt: str
    strategy: str
    panes: tuple[PaneRecord, ...] = ()
    notes: tuple[str, ...] = ()
    chosen_leg: str | None = None
    provider_prompt_tokens: int = 0
    baseline_prompt_tokens: int = 0
    tokens_saved: int = Field(
        0,
        ge=0,
        description="As the run's trace counted them (0 in turns kept before savings "
        "were audited, like the ledger's unaudited runs).",
    )
    cost_usd: float | None = None
    partial: bool = Field(False, description="Saved before every pane had finished.")
    sources: tuple[SourceCitation, ...] = Field((), description="Library chunks it answered from.")
    server_prompt: ServerPrompt | None = Field(
        None, description="The server prompt it came from; its messages went before the prompt."
    )
    attachments: tuple[ContextDocument, ...] = Field(
        (), description="MCP resources sent with the prompt as context."
    )
    retry_of: str | None = Field(
        None, description="The turn it asked again (Regenerate): that one leaves the history."
    )

    @classmethod
    def from_trace(
        cls,
        prompt: str,
        trace: HybridTrace,
        *,
        partial: bool = False,
        sources: tuple[SourceCitation, ...] = (),
    ) -> TurnRecord:
        panes = []
        for leg in trace.legs:
            pane = PaneRecord(leg=leg.leg, backend=leg.backend, role=leg.role, error=leg.error)
            response = leg.response
            if response is not None:
                pane = pane.model_copy(
                    update={
                        "model": response.model,
                        "text": response.text,
                        "prompt_tokens": response.usage.prompt_tokens,
                        "completion_tokens": response.usage.completion_tokens,
                        "time_to_first_token_s": response.timings.time_to_first_token_s,
                        "tokens_per_s": response.timings.decode_tokens_per_s,
                        "total_s": response.timings.total_s,
                        "cost_usd": response.cost_usd,
                    }
                )
            panes.append(pane)
        return cls(
            prompt=prompt,
            strategy=trace.strategy,
            panes=tuple(panes),
            notes=trace.notes,
            chosen_leg=trace.final_leg,
            provider_prompt_tokens=trace.provider_prompt_tokens,
            baseline_prompt_tokens=trace.baseline_prompt_tokens,
            tokens_saved=trace.prompt_tokens_saved,
            cost_usd=trace.cost_usd,
            partial=partial,
            sources=sources,
        )

    def pane(self, leg: str | None) -> PaneRecord | None:
        return next((pane for pane in self.panes if pane.leg == leg), None)

    def about(self) -> list[str]:
        """Where the prompt came from and what went with it, a short line each."""
        return about_lines(self.server_prompt, self.attachments)

    def messages(self) -> tuple[ChatMessage, ...]:
        """What the turn adds to a later request's history: the server prompt's messages, the
        prompt (its attachments written in before it), and the chosen answer."""
        prompt = self.prompt
        if self.attachments:
            prompt = f"Context:\n{render_context(self.attachments)}\n\nQuestion: {prompt}"
        messages = [
            *(self.server_prompt.messages if self.server_prompt is not None else ()),
            ChatMessage(role="user", content=prompt),
        ]
        chosen = self.pane(self.chosen_leg)
        if chosen is not None and chosen.text:
            messages.append(ChatMessage(role="assistant", content=chosen.text))
        return tuple(messages)


class ConversationRecord(FrozenModel):
    """A titled list of turns; changes return a new record."""

    id: str = Field(default_factory=_new_id)
    title: str = "New conversation"
    created: float = Field(default_factory=time.time)
    updated: float = Field(default_factory=time.time)
    turns: tuple[TurnRecord, ...] = ()

    def with_turn(self, turn: TurnRecord) -> ConversationRecord:
        """Add a turn (or replace the one with its id); the first prompt names the conversation."""
        turns = tuple(t for t in self.turns if t.id != turn.id)
        replaced = len(turns) != len(self.turns)
        if replaced:
            turns = tuple(turn if t.id == turn.id else t for t in self.turns)
        else:
            turns = (*self.turns, turn)
        title = self.title
        if not self.turns and title == "New conversation":
            title = " ".join(turn.prompt.split())[:60] or title
        return self.model_copy(update={"turns": turns, "title": title, "updated": time.time()})

    def messages(self, *, leave_out: str | None = None) -> tuple[ChatMessage, ...]:
        """The history a next request carries: each turn's messages, its prompt and the answer
        chosen for it; a turn asked again is left out, and so is the turn ``leave_out``."""
        asked_again = {turn.retry_of for turn in self.turns}
        kept = (t for t in self.turns if t.id not in asked_again and t.id != leave_out)
        return tuple(message for turn in kept for message in turn.messages())

    def branch(self, turn_id: str, leg: str) -> ConversationRecord:
        """A new conversation up to ``turn_id`` that continues from ``leg``'s answer."""
        index = next((i for i, turn in enumerate(self.turns) if turn.id == turn_id), None)
        if index is None:
            raise KeyError(f"no turn {turn_id} in conversation {self.id}")
        if self.turns[index].pane(leg) is None:
            raise KeyError(f"turn {turn_id} has no pane {leg!r}")
        turns = (*self.turns[:index], self.turns[index].model_copy(update={"chosen_leg": leg}))
        now = time.time()
        return ConversationRecord(
            title=f"{self.title} (branch)", created=now, updated=now, turns=turns
        )
