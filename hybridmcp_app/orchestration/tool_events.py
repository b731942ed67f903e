"""What a tool loop streams besides model text: each tool call as it starts and ends, and the end.

A tool loop is one leg: ``LegStarted`` once, then every model step's stream as ``LegEvent``s (a
``StreamCompleted`` ends a step, not the leg), the calls in between, and ``ToolLoopCompleted``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage, InferenceResponse, Usage
from hybridmcp_app.mcp_host.mcp_items import ToolCallOutcome
from hybridmcp_app.orchestration.events import (
    DecisionNote,
    LegEvent,
    LegStarted,
    RunCompleted,
    ToolSelectionTrace,
)

# How a call was let through or stopped: by the user's settings, by the user in the dialog,
# or before anyone was asked (unknown tool, arguments that do not fit its schema).
Approval = Literal["auto", "allowed_once", "allowed_always", "denied", "invalid"]
ToolMode = Literal["native", "grammar"]


class ToolCallStarted(FrozenModel):
    """The model asked for a tool; shown inline in the chat before approval and the call."""

    type: Literal["tool_call_started"] = "tool_call_started"
    leg: str
    call_id: str
    server: str = Field(description="'' when the model named no known server.")
    tool: str
    qualified_name: str
    arguments: str = Field(description="The arguments as JSON text (indented when valid).")


class ToolCallFinished(FrozenModel):
    """A tool call ended: its result as the model receives it (maybe truncated), or why not."""

    type: Literal["tool_call_finished"] = "tool_call_finished"
    leg: str
    call_id: str
    server: str
    tool: str
    outcome: ToolCallOutcome
    approval: Approval
    truncated: bool = False
    duration_s: float = Field(0.0, ge=0)

    @property
    def approved(self) -> bool:
        return self.approval in ("auto", "allowed_once", "allowed_always")


class ToolLoopCompleted(FrozenModel):
    """The last event of a tool loop: the final answer (or the error), and the whole exchange."""

    type: Literal["tool_loop_completed"] = "tool_loop_completed"
    leg: str
    mode: ToolMode
    response: InferenceResponse | None = None
    error: str | None = None
    messages: tuple[ChatMessage, ...] = Field(
        (),
        description="The conversation with its tool turns as tool messages (a grammar-mode "
        "model was sent them as text, see tool_call_grammar.as_plain_chat).",
    )
    rounds: int = Field(0, ge=0, description="Model steps that ended in tool calls.")
    steps: tuple[InferenceResponse, ...] = Field((), description="Every model step's response.")
    tools: ToolSelectionTrace | None = Field(
        None, description="The tools offered when the local side chose them."
    )

    @property
    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=sum(step.usage.prompt_tokens for step in self.steps),
            completion_tokens=sum(step.usage.completion_tokens for step in self.steps),
            estimated=any(step.usage.estimated for step in self.steps),
        )

    @property
    def cost_usd(self) -> float | None:
        costs = [step.cost_usd for step in self.steps if step.cost_usd is not None]
        return sum(costs) if costs else None


ToolLoopEvent = (
    LegStarted | LegEvent | DecisionNote | ToolCallStarted | ToolCallFinished | ToolLoopCompleted
)

# What an orchestrated run streams when its answer legs may call MCP tools.
RunEvent = LegStarted | LegEvent | DecisionNote | RunCompleted | ToolCallStarted | ToolCallFinished
