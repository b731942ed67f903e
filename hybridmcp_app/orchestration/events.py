"""What an orchestrated run streams: per-leg model events, decision notes, and the trace."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import InferenceResponse, StreamEvent

LegRole = Literal["answer", "draft", "refine", "check", "fallback"]
# Whether a run spared the provider anything. Only a successful run with a provider configured,
# under a strategy that uses it, and with no provider call failing, can: by sending it fewer
# prompt tokens, or by answering without it. A local run chosen by the user, a failed run and a
# failover save nothing.
Saving = Literal["fewer_tokens", "without_provider", "none"]


class LegStarted(FrozenModel):
    """A model starts working on its part of the run."""

    type: Literal["leg_started"] = "leg_started"
    leg: str
    backend: str
    role: LegRole


class LegEvent(FrozenModel):
    """One event of one leg's model stream."""

    type: Literal["leg_event"] = "leg_event"
    leg: str
    event: StreamEvent


class DecisionNote(FrozenModel):
    """What the orchestrator decided and why, e.g. "routed locally: privacy rule"."""

    type: Literal["note"] = "note"
    text: str


class SentRequest(FrozenModel):
    """A provider request as its backend sent it: the JSON body (never the key), split into the
    model, the messages (sources inlined) and everything else (max_tokens, temperature, stop…)."""

    model: str
    messages: tuple[dict[str, Any], ...]
    parameters: dict[str, Any] = Field(default_factory=dict)
    estimated_prompt_tokens: int = Field(0, ge=0, description="Our estimate of the messages.")


OfferReason = Literal["ranked", "pinned", "recovered", "searched"]


class OfferedTool(FrozenModel):
    """A tool the provider was shown, and why: ranked by the local side (with its score), pinned
    by the user, recovered (the provider called it though it was left out) or found by the
    provider's ``search_tools`` call."""

    name: str
    reason: OfferReason
    score: float | None = None


class ToolSelectionTrace(FrozenModel):
    """Which tools a tool loop offered the provider and what their definitions cost: the
    tool-definition tokens of every request that was answered, as sent and as all tools would
    have been (both counted with ``estimate_tokens`` over the JSON definitions)."""

    available: int = Field(ge=0, description="Tools that could have been offered.")
    offered: tuple[OfferedTool, ...] = ()
    requests: int = Field(0, ge=0, description="Answered requests that carried tools.")
    tool_tokens_sent: int = Field(0, ge=0)
    tool_tokens_all: int = Field(0, ge=0)

    @property
    def tool_tokens_saved(self) -> int:
        return max(0, self.tool_tokens_all - self.tool_tokens_sent)


class LegTrace(FrozenModel):
    """One leg's part in the run; a provider leg keeps the request it sent (a tool loop's first)."""

    leg: str
    backend: str
    role: LegRole
    response: InferenceResponse | None = None
    error: str | None = None
    request: SentRequest | None = None
    tools: ToolSelectionTrace | None = Field(
        None, description="A tool loop's offer when the local side chose the tools."
    )


class HybridTrace(FrozenModel):
    """Which model did what, what it cost, and what the provider was spared."""

    strategy: str
    provider: str | None = Field(None, description="The provider's backend name, when set up.")
    legs: tuple[LegTrace, ...] = ()
    notes: tuple[str, ...] = ()
    final_leg: str | None = None
    provider_prompt_tokens: int = Field(0, ge=0, description="As the provider counted them.")
    baseline_prompt_tokens: int = Field(
        0, ge=0, description="Our estimate of what provider-only would send."
    )
    provider_prompt_tokens_estimated: int | None = Field(
        None,
        ge=0,
        description="Our estimate of what the provider was sent, counted like the baseline: the "
        "saving compares these two, never a provider's tokenizer with our estimate.",
    )
    cost_usd: float | None = None
    cost_saved_usd: float | None = Field(
        None, description="Prompt tokens saved at the provider's input price, when known."
    )
    saving: Saving = "none"

    @property
    def prompt_tokens_saved(self) -> int:
        if self.saving == "none":
            return 0
        sent = self.provider_prompt_tokens_estimated
        return max(
            0, self.baseline_prompt_tokens - (self.provider_prompt_tokens if sent is None else sent)
        )

    @property
    def tool_tokens_saved(self) -> int:
        """Tool-definition tokens the provider was not sent because the local side chose the
        tools (only requests that went out and were answered count)."""
        return sum(leg.tools.tool_tokens_saved for leg in self.provider_legs if leg.tools)

    @property
    def provider_legs(self) -> tuple[LegTrace, ...]:
        return tuple(leg for leg in self.legs if leg.backend == self.provider)

    @property
    def provider_usage_reported(self) -> bool | None:
        """Whether the provider counted every prompt token itself (None: it answered nothing)."""
        answered = [leg.response for leg in self.provider_legs if leg.response is not None]
        return all(not r.usage.estimated for r in answered) if answered else None

    @property
    def final(self) -> InferenceResponse | None:
        for leg in self.legs:
            if leg.leg == self.final_leg:
                return leg.response
        return None


class RunCompleted(FrozenModel):
    """The last event of a run."""

    type: Literal["completed"] = "completed"
    trace: HybridTrace


OrchestratorEvent = LegStarted | LegEvent | DecisionNote | RunCompleted
