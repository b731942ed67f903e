"""The local model's second look at the tool selection (``mcp.tool_check_by_local_model``).

After the ranking (``services/tool_selection``), the first ``2k`` candidates (name and a
one-line description) and the user's last turn go to the loaded local model, if it is a chat
model (it has a chat template). It answers with a JSON array of the names it thinks are needed,
held to the candidates by a json_schema grammar (an array of the names as an enum, at most k).

The merge rule (``merge_checked``): its picks first, then the rest of the ranked top k, up to k.
The pass only reorders: a pick from places k+1..2k is promoted into the offer and pushes out the
ranking's last; the offer never shrinks, and no tool outside the first 2k gets in.

It runs on the local model's one worker thread, within ``CHECK_DEADLINE_S``: on timeout, on an
error, or on an answer that is not such a list, the ranking alone chooses, and the trace says
why. ``benchmarks/tool_selection.py`` measures what it adds (recall at the same k, ms per turn):
with the embedded SmolLM2 135M, at k = 10 on 26 of the labelled requests, recall stayed 0.885
(+0.000) for 6.1 s a turn (p50) on a shared 2-core machine, none within the deadline; at k = 30,
on 21, 1.000 either way for 15.5 s. So the setting is off by default: it is for a capable
local chat model, whose numbers the same benchmark gives (``HYBRIDMCP_BENCH_LOCAL_MODEL``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, ResponseFormat
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.mcp_host.mcp_items import McpTool

if TYPE_CHECKING:
    from hybridmcp_app.llm.chat_backend import ChatBackend

log = logging.getLogger("hybridmcp.tool_check")
CHECK_DEADLINE_S = 4.0  # the most a chat turn waits for the check (then: the ranking alone)
DESCRIPTION_CHARS = 80  # a candidate's description, cut to its first sentence and this
NAME_TOKENS = 16  # answer tokens allowed per picked name (quotes and comma included)
SYSTEM = (
    "Pick the tools needed for the user's request from the list. Answer with a JSON array of "
    "tool names, the most needed first."
)


class CheckResult(FrozenModel):
    """What the local model picked (empty: the ranking alone chooses), a line for the trace,
    and how long it took."""

    picks: tuple[str, ...] = ()
    note: str = ""
    ms: float = 0.0


def one_line(tool: McpTool) -> str:
    """A tool's description in one short line: its first sentence, cut to DESCRIPTION_CHARS."""
    text = " ".join(tool.description.split())
    first = text.split(". ", 1)[0].rstrip(".")
    return first if len(first) <= DESCRIPTION_CHARS else first[: DESCRIPTION_CHARS - 1] + "…"


def picks_schema(names: Sequence[str], k: int) -> dict[str, Any]:
    """The answer's JSON schema: an array of 1 to k of the candidates' names."""
    return {"type": "array", "items": {"enum": list(names)}, "minItems": 1, "maxItems": k}


def check_request(candidates: Sequence[McpTool], request: str, k: int) -> InferenceRequest:
    """The local model's request: the candidates, one a line, and the user's last turn."""
    names = [tool.qualified_name for tool in candidates]
    listed = "\n".join(f"{tool.qualified_name}: {one_line(tool)}" for tool in candidates)
    return InferenceRequest(
        messages=(
            ChatMessage(role="system", content=SYSTEM),
            ChatMessage(role="user", content=f"Tools:\n{listed}\n\nRequest: {request}"),
        ),
        response_format=ResponseFormat(type="json_schema", json_schema=picks_schema(names, k)),
        parameters=ModelParameters(temperature=0.0, max_tokens=NAME_TOKENS * k + 8, seed=0),
    )


def parse_picks(text: str, candidates: Sequence[str], k: int) -> tuple[str, ...]:
    """The candidates the answer names, in its order, each once, at most ``k``; ValueError when
    the answer is not a JSON array of strings."""
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("the answer is not JSON") from None
    if not isinstance(answer, list) or not all(isinstance(name, str) for name in answer):
        raise ValueError("the answer is not a list of names")
    known = set(candidates)
    return tuple(dict.fromkeys(name for name in answer if name in known))[:k]


def merge_checked(
    ranked: Sequence[tuple[str, float]], picks: Sequence[str], k: int
) -> tuple[list[tuple[str, float]], tuple[str, ...]]:
    """``ranked`` reordered by the picks (see the module's doc), and the promoted names (picks
    from beyond the first k). Picks outside the first 2k are ignored."""
    window = dict(ranked[: 2 * k])
    chosen = list(dict.fromkeys(name for name in picks if name in window))[:k]
    top = [name for name, _ in ranked[:k]]
    head = [*chosen, *(name for name in top if name not in chosen)][:k]
    taken = set(head)
    merged = [(name, window[name]) for name in head]
    merged += [(name, score) for name, score in ranked if name not in taken]
    return merged, tuple(name for name in chosen if name not in top)


class LocalToolCheck:
    """Asks the loaded local model which candidates a request needs (within a deadline)."""

    def __init__(
        self, backend: Callable[[], ChatBackend | None], deadline_s: float = CHECK_DEADLINE_S
    ) -> None:
        """``backend``: the local model in use now (None: none is loaded)."""
        self._backend, self.deadline_s = backend, deadline_s

    async def pick(self, candidates: Sequence[McpTool], request: str, k: int) -> CheckResult:
        """The local model's picks among ``candidates`` for ``request``; never raises: an empty
        result with the reason in its note means the ranking alone chooses."""
        backend = self._backend()
        alone = "the ranking alone chose"
        if backend is None:
            return CheckResult(note=f"tool check: no local model is loaded, {alone}")
        if not backend.capabilities.has_chat_template:
            return CheckResult(note=f"tool check: the local model is not a chat model, {alone}")
        names = [tool.qualified_name for tool in candidates]
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.deadline_s):
                response = await backend.complete(check_request(candidates, request, k))
            picks = parse_picks(response.text, names, k)
        except TimeoutError:
            note = f"the local model's tool check took over {self.deadline_s:g} s: {alone}"
            return CheckResult(note=note, ms=_ms_since(started))
        except Exception as error:  # any failure of the check: the ranking alone chooses
            log.warning("tool check failed: %s", error)
            note = f"the local model's tool check failed ({error}): {alone}"
            return CheckResult(note=note, ms=_ms_since(started))
        ms = _ms_since(started)
        if not picks:
            return CheckResult(note=f"the local model picked no tool: {alone}", ms=ms)
        return CheckResult(picks=picks, ms=ms)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def check_note(result: CheckResult, promoted: Sequence[str], candidates: int) -> str:
    """The trace's line for a check that picked tools."""
    picked = ", ".join(result.picks)
    moved = (
        f"promoted {', '.join(promoted)} into the offer"
        if promoted
        else "all of them were offered already"
    )
    return (
        f"the local model checked the first {candidates} tools in {result.ms:.0f} ms and "
        f"picked {picked}: {moved}"
    )
