"""The tools a tool loop offers a provider when the local side chooses them (``ToolChooser``,
implemented in ``services/tool_selection``), and the ``search_tools`` meta-tool through which the
provider fetches the definitions of tools that were left out.

The loop never fails a turn because the choice was wrong: a call of a left-out tool runs like
any other (after the usual approval), and the tool joins the next request's offer; a
``search_tools`` call is answered with the best matching left-out definitions, which join it too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hybridmcp_app.core.inference import ChatMessage, ToolCall
from hybridmcp_app.core.token_estimate import estimate_tokens
from hybridmcp_app.mcp_host.mcp_items import McpTool, ToolCallOutcome
from hybridmcp_app.orchestration.events import (
    HybridTrace,
    OfferedTool,
    OfferReason,
    ToolSelectionTrace,
)

log = logging.getLogger("hybridmcp.orchestration.tools")
SEARCH_TOOLS = "search_tools"
SEARCH_RESULTS = 5  # definitions a search_tools call returns


def search_tools_schema(left_out: int) -> dict[str, Any]:
    """The meta-tool as an OpenAI ``tools`` entry."""
    return {
        "type": "function",
        "function": {
            "name": SEARCH_TOOLS,
            "description": (
                f"{left_out} more tool(s) exist but are not listed here. Describe what you need "
                "done; the definitions of the best matching tools come back, and you can call "
                "them next."
            ),
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What the tool does."}},
                "required": ["query"],
            },
        },
    }


def tool_tokens(schemas: Iterable[dict[str, Any]]) -> int:
    """Prompt tokens of tool definitions as a provider receives them (their JSON, estimated
    like every other prompt count of the app)."""
    listed = list(schemas)
    if not listed:
        return 0
    return estimate_tokens(json.dumps(listed, separators=(",", ":"), ensure_ascii=False))


@dataclass(frozen=True)
class ToolChoice:
    """A chooser's offer with a line for the trace on how it was made ('' for none)."""

    offered: tuple[OfferedTool, ...]
    note: str = ""


class ToolChooser(Protocol):
    """Chooses which tools a provider request carries."""

    async def choose(
        self, tools: Sequence[McpTool], messages: Sequence[ChatMessage]
    ) -> ToolChoice | tuple[OfferedTool, ...] | None:
        """The tools to offer for this conversation (with a note, or bare); None: offer them
        all."""
        ...

    async def search(
        self, query: str, candidates: Sequence[McpTool], limit: int
    ) -> list[tuple[str, float]]:
        """The best ``limit`` of ``candidates`` for ``query``: (qualified name, score)."""
        ...


@dataclass
class ToolOffer:
    """One loop's offer as it grows: the tools shown so far and what their definitions cost."""

    available: dict[str, McpTool]
    chooser: ToolChooser
    shown: dict[str, OfferedTool] = field(default_factory=dict)
    requests: int = 0
    tokens_sent: int = 0
    tokens_all: int = 0

    @property
    def left_out(self) -> list[McpTool]:
        return [tool for name, tool in self.available.items() if name not in self.shown]

    def add(self, name: str, reason: OfferReason, score: float | None = None) -> bool:
        """Show ``name`` from now on; False when it was shown already or is unknown."""
        if name in self.shown or name not in self.available:
            return False
        self.shown[name] = OfferedTool(name=name, reason=reason, score=score)
        return True

    def schemas(self) -> tuple[dict[str, Any], ...]:
        """The request's ``tools``: the shown tools, and ``search_tools`` while any is left out."""
        shown = [self.available[name].openai_schema() for name in self.shown]
        left_out = len(self.available) - len(self.shown)
        return (*shown, search_tools_schema(left_out)) if left_out else tuple(shown)

    def count(self, schemas: Sequence[dict[str, Any]]) -> None:
        """A request with ``schemas`` was answered: count its tool tokens, sent and in full."""
        self.requests += 1
        self.tokens_sent += tool_tokens(schemas)
        self.tokens_all += tool_tokens(tool.openai_schema() for tool in self.available.values())

    def trace(self) -> ToolSelectionTrace:
        return ToolSelectionTrace(
            available=len(self.available),
            offered=tuple(self.shown.values()),
            requests=self.requests,
            tool_tokens_sent=self.tokens_sent,
            tool_tokens_all=self.tokens_all,
        )

    def summary(self) -> str:
        """One line for the trace: how many tools were offered and why."""
        parts = [f"{tool.name} ({why(tool)})" for tool in self.shown.values()]
        extra = " + search_tools" if self.left_out else ""
        return (
            f"the local side offered {len(self.shown)} of {len(self.available)} tools"
            f"{extra}: {', '.join(parts) or 'none'}"
        )


def why(tool: OfferedTool) -> str:
    """Why a tool was offered: pinned, or ranked (searched) with its score, or recovered."""
    return f"{tool.reason} {tool.score:.2f}" if tool.score is not None else tool.reason


def search_answer(found: Sequence[McpTool]) -> str:
    """``search_tools``'s result: the found tools' definitions as JSON."""
    if not found:
        return "No other tools match. Answer with the tools you have."
    definitions = [tool.openai_schema()["function"] for tool in found]
    return json.dumps(definitions, ensure_ascii=False)


async def first_offer(
    chooser: ToolChooser,
    offered: dict[str, McpTool],
    messages: Sequence[ChatMessage],
    force_tool: str | None,
) -> tuple[ToolOffer | None, str]:
    """The loop's first offer (None: every tool) and a line for the trace. A chooser that fails
    offers every tool: a turn never fails over the choice."""
    try:
        chosen = await chooser.choose(list(offered.values()), messages)
    except Exception as error:  # any failure of the chooser: offer everything
        log.warning("tool selection failed: %s", error)
        return None, f"tool selection failed ({error}): offering every tool"
    if chosen is None:
        return None, ""
    choice = chosen if isinstance(chosen, ToolChoice) else ToolChoice(chosen)
    offer = ToolOffer(offered, chooser)
    if force_tool is not None:
        offer.add(force_tool, "pinned")
    for tool in choice.offered:
        offer.add(tool.name, tool.reason, tool.score)
    every = tool_tokens(tool.openai_schema() for tool in offered.values())
    if tool_tokens(offer.schemas()) >= every:  # search_tools would cost more than it cuts
        return None, ""
    return offer, f"{offer.summary()}; {choice.note}" if choice.note else offer.summary()


def recovered_call(call: ToolCall, offer: ToolOffer) -> tuple[ToolCall, str]:
    """A call of a left-out tool joins the offer (a line for the trace says so); a call by a
    bare name (``add`` for ``calc__add``) that names exactly one tool becomes a call of it."""
    if call.name not in offer.available:
        matches = [name for name, tool in offer.available.items() if tool.name == call.name]
        if len(matches) == 1:
            call = call.model_copy(update={"name": matches[0]})
    if not offer.add(call.name, "recovered"):
        return call, ""
    return call, (
        f"the provider called {call.name}, which the local side had left out: it runs (after "
        "the usual approval) and is offered from now on"
    )


def _query_of(arguments: str) -> str:
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return arguments  # the raw text is the query
    if isinstance(parsed, dict) and isinstance(parsed.get("query"), str):
        return str(parsed["query"])
    return arguments


async def run_search(offer: ToolOffer, arguments: str) -> tuple[ToolCallOutcome, str]:
    """``search_tools``'s answer to a call with ``arguments`` (the found tools join the offer),
    and a line for the trace."""
    query = _query_of(arguments)
    left_out = offer.left_out
    try:
        ranked = await offer.chooser.search(query, left_out, SEARCH_RESULTS)
    except Exception as error:  # any failure of the chooser: show the first left-out tools
        log.warning("search_tools failed: %s", error)
        ranked = [(tool.qualified_name, 0.0) for tool in left_out[:SEARCH_RESULTS]]
    found = [offer.available[name] for name, score in ranked if offer.add(name, "searched", score)]
    names = ", ".join(tool.qualified_name for tool in found) or "nothing"
    short = " ".join(query.split())[:80]
    return ToolCallOutcome(text=search_answer(found)), f"search_tools({short!r}) brought in {names}"


def offer_text(trace: ToolSelectionTrace) -> str:
    """The offer in one line for the trace and the meter: which tools and why, and the
    tool-definition tokens sent against every tool's."""
    shown = ", ".join(f"{tool.name} ({why(tool)})" for tool in trace.offered)
    return (
        f"Tools offered: {len(trace.offered)} of {trace.available}: {shown or 'none'} · tool "
        f"definitions ≈ {trace.tool_tokens_sent:,} tokens sent, ≈ {trace.tool_tokens_all:,} "
        f"with every tool ({trace.requests} request(s))"
    )


def tool_meter(trace: HybridTrace) -> str:
    """The token meter's words for a turn whose tools the local side chose: how many tools a
    request carried of those on, and their definitions' tokens a request, as sent and with
    every tool; '' for any other turn."""
    chosen = [leg.tools for leg in trace.provider_legs if leg.tools is not None]
    requests = sum(tools.requests for tools in chosen)
    if not requests:
        return ""
    sent = sum(tools.tool_tokens_sent for tools in chosen) // requests
    every = sum(tools.tool_tokens_all for tools in chosen) // requests
    offered = max(len(tools.offered) for tools in chosen)
    available = max(tools.available for tools in chosen)
    return (
        f"tools sent: {offered} of {available}, ≈ {sent:,} tokens a request (every tool: "
        f"≈ {every:,})"
    )
