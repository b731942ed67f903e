"""A run's audit: each provider call as it was sent, the provider's own token counts where it
reported them (else our estimate, said so), the baseline and the saving kind.

The chat (under an answer), ``hybridmcp ask --json`` and the local API show this same object.
"""

from __future__ import annotations

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.orchestration.events import (
    HybridTrace,
    LegRole,
    Saving,
    SentRequest,
    ToolSelectionTrace,
)


class ProviderCall(FrozenModel):
    """One provider leg: what it sent and what it was charged for."""

    leg: str
    role: LegRole
    request: SentRequest | None = None
    error: str | None = None
    prompt_tokens: int | None = Field(None, description="None: the call failed.")
    completion_tokens: int | None = None
    usage_reported: bool = Field(False, description="The provider's own usage, not our estimate.")
    estimated_prompt_tokens: int | None = Field(None, description="Our estimate of the request.")
    tools: ToolSelectionTrace | None = Field(
        None, description="The tools offered, and their definitions' tokens, when chosen."
    )


class TraceAudit(FrozenModel):
    """What the provider was sent, against what provider-only would have sent."""

    strategy: str
    provider: str | None
    final_leg: str | None
    failed_over: bool = Field(description="The local model answered for a failed provider.")
    provider_calls: tuple[ProviderCall, ...]
    provider_prompt_tokens: int
    provider_usage_reported: bool | None = Field(
        description="Every provider count is the provider's own (None: no provider answer)."
    )
    provider_prompt_tokens_estimated: int | None = Field(
        description="Our estimate of what the provider was sent, counted like the baseline."
    )
    baseline_prompt_tokens: int = Field(
        description="Our estimate of provider-only's prompt: the same turn, the same sources."
    )
    saving: Saving
    prompt_tokens_saved: int
    tool_tokens_saved: int = Field(
        0, description="Tool-definition tokens not sent because the local side chose the tools."
    )
    cost_usd: float | None
    cost_saved_usd: float | None
    notes: tuple[str, ...]


def audit_of(trace: HybridTrace) -> TraceAudit:
    """The audit of a finished run's trace."""
    calls = []
    for leg in trace.provider_legs:
        usage = leg.response.usage if leg.response is not None else None
        sent = leg.request
        call = ProviderCall(
            leg=leg.leg, role=leg.role, request=sent, error=leg.error, tools=leg.tools
        )
        if usage is not None:
            call = call.model_copy(
                update={
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "usage_reported": not usage.estimated,
                }
            )
        if sent is not None:
            call = call.model_copy(update={"estimated_prompt_tokens": sent.estimated_prompt_tokens})
        calls.append(call)
    final = next((leg for leg in trace.legs if leg.leg == trace.final_leg), None)
    return TraceAudit(
        strategy=trace.strategy,
        provider=trace.provider,
        final_leg=trace.final_leg,
        failed_over=(
            final is not None
            and final.backend != trace.provider
            and any(call.prompt_tokens is None for call in calls)
        ),
        provider_calls=tuple(calls),
        provider_prompt_tokens=trace.provider_prompt_tokens,
        provider_usage_reported=trace.provider_usage_reported,
        provider_prompt_tokens_estimated=trace.provider_prompt_tokens_estimated,
        baseline_prompt_tokens=trace.baseline_prompt_tokens,
        saving=trace.saving,
        prompt_tokens_saved=trace.prompt_tokens_saved,
        tool_tokens_saved=trace.tool_tokens_saved,
        cost_usd=trace.cost_usd,
        cost_saved_usd=trace.cost_saved_usd,
        notes=trace.notes,
    )
