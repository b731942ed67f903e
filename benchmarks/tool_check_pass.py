"""The local model's second pass over the tool selection (``services/tool_check``), measured for
``benchmarks.tool_selection``: the ranking alone versus the ranking then the pass, at the same k.

k: ``PASS_K`` = 10, not the app's 30. At k = 30 the ranking alone already recalls 0.96 (all 21
requests of a first subset: gain 0 by construction) and the pass reads 60 candidates (about
1,300 prompt tokens: SmolLM2 135M took 15.5 s p50 a call on the shared 2-core machine). k = 10
is where a pass would pay: lifted to recall 0.95 there, the offer could shrink 3 times.

Subset: a model call per request does not fit the 5-minute budget on 2 cores for all 202
requests, so the pass is evaluated on every ``CHECK_EVERY``-th request of ``requests.jsonl``
(r001, r009, …, r201: 26 requests, every tag among them), the same subset for both sides. Per
request, in turn: the ranking alone is timed, then the pass over its first 2k (the app's
``LocalToolCheck`` with no deadline, so that its full cost is seen; the share that would have
met the app's ``CHECK_DEADLINE_S`` is reported). Models: the embedded SmolLM2 135M Instruct (the
default chat model), and the user's GGUF when ``HYBRIDMCP_BENCH_LOCAL_MODEL`` names one with a
chat template (a larger model on CPU can take the run past 5 minutes).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.llm.embedded_models import SMOLLM2
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.services.tool_check import CHECK_DEADLINE_S, LocalToolCheck, merge_checked

CHECK_EVERY = 8
PASS_K = 10  # the k both sides offer (see above)
CACHE = Path(tempfile.gettempdir()) / "hybridmcp-bench-cache"
SETTINGS = InferenceSettings(n_ctx=4096)
Rank = Callable[[Sequence[str]], list[tuple[str, float]]]


@dataclass(frozen=True)
class CheckCase:
    """One request of the subset: the turns the ranking reads, and the tools it needs."""

    turns: list[str]
    needed: frozenset[str]


@dataclass
class PassResult:
    """One model's pass over the subset, beside the ranking alone."""

    model: str
    k: int
    kept_alone: list[bool] = field(default_factory=list)
    kept_checked: list[bool] = field(default_factory=list)
    ranking_ms: list[float] = field(default_factory=list)
    pass_ms: list[float] = field(default_factory=list)
    promoted: int = 0  # requests where the pass moved a tool into the offer
    failed: int = 0  # requests where the pass gave no usable answer

    @property
    def recall_alone(self) -> float:
        return statistics.fmean(self.kept_alone)

    @property
    def recall_checked(self) -> float:
        return statistics.fmean(self.kept_checked)

    @property
    def gain(self) -> float:
        return self.recall_checked - self.recall_alone

    def ms(self, share: float, ranking: bool = False) -> float:
        """A percentile of the pass's (or the ranking's) milliseconds per request."""
        values = self.ranking_ms if ranking else self.pass_ms
        return float(np.percentile(np.array(values), share * 100))

    @property
    def within_deadline(self) -> float:
        return statistics.fmean(ms <= CHECK_DEADLINE_S * 1000 for ms in self.pass_ms)


async def run_pass(
    model: str,
    backend: LlamaCppBackend,
    tools: Sequence[McpTool],
    cases: Sequence[CheckCase],
    rank: Rank,
    k: int,
) -> PassResult:
    """The ranking alone and the ranking + pass for each case, one after the other."""
    by_name = {tool.qualified_name: tool for tool in tools}
    check = LocalToolCheck(lambda: backend, deadline_s=3600.0)
    result = PassResult(model, k)
    for case in cases:
        started = time.perf_counter()
        ranked = rank(case.turns)
        result.ranking_ms.append((time.perf_counter() - started) * 1000)
        candidates = [by_name[name] for name, _ in ranked[: 2 * k]]
        picked = await check.pick(candidates, case.turns[-1], k)
        merged, promoted = merge_checked(ranked, picked.picks, k)
        result.pass_ms.append(picked.ms)
        result.promoted += bool(promoted)
        result.failed += not picked.picks
        result.kept_alone.append(case.needed <= {name for name, _ in ranked[:k]})
        result.kept_checked.append(case.needed <= {name for name, _ in merged[:k]})
    return result


async def measure_models(
    models: Sequence[tuple[str, Path]],
    tools: Sequence[McpTool],
    cases: Sequence[CheckCase],
    rank: Rank,
    k: int,
) -> list[PassResult]:
    """Each chat model's pass (a model without a chat template is reported and skipped)."""
    results = []
    for label, path in models:
        backend = await LlamaCppBackend.open(path, SETTINGS)
        try:
            if not backend.capabilities.has_chat_template:
                print(f"{label}: no chat template, so the app never asks it: not measured")
                continue
            results.append(await run_pass(label, backend, tools, cases, rank, k))
        finally:
            await backend.close()
    return results


def second_pass(
    user_model: Path | None,
    tools: Sequence[McpTool],
    cases: Sequence[CheckCase],
    rank: Rank,
    k: int,
) -> list[PassResult]:
    """SmolLM2 (embedded), then the user's model when one is named."""
    models = [("SmolLM2 135M", SMOLLM2.locate(CACHE))]
    if user_model is not None:
        models.append((user_model.name, user_model))
    return asyncio.run(measure_models(models, tools, cases, rank, k))


def pass_rows(results: Sequence[PassResult]) -> list[list[object]]:
    return [
        [
            r.model,
            len(r.kept_alone),
            f"{r.recall_alone:.3f}",
            f"{r.recall_checked:.3f}",
            f"{r.gain:+.3f}",
            r.promoted,
            r.failed,
            f"{r.ms(0.5, ranking=True):.1f}",
            f"{r.ms(0.5):.0f}",
            f"{r.ms(0.95):.0f}",
            f"{r.within_deadline:.2f}",
        ]
        for r in results
    ]


PASS_HEADERS = ["local model", "requests", "recall alone", "recall + pass", "gain", "promoted",
                "no answer", "rank ms p50", "pass ms p50", "pass ms p95",
                f"<= {CHECK_DEADLINE_S:g} s"]  # fmt: skip


def pass_metrics(results: Sequence[PassResult]) -> dict[str, float]:
    """The JSON keys: the embedded model's under ``second_pass_*``, the user's under
    ``second_pass_user_*``."""
    metrics: dict[str, float] = {}
    for prefix, r in zip(("second_pass", "second_pass_user"), results, strict=False):
        metrics |= {
            f"{prefix}_recall_alone": r.recall_alone,
            f"{prefix}_recall": r.recall_checked,
            f"{prefix}_recall_gain": r.gain,
            f"{prefix}_ms_p50": r.ms(0.5),
            f"{prefix}_ms_p95": r.ms(0.95),
            f"{prefix}_within_deadline": r.within_deadline,
            f"{prefix}_promoted_share": r.promoted / len(r.kept_alone),
        }
    if results:
        metrics["second_pass_requests"] = len(results[0].kept_alone)
        metrics["second_pass_k"] = results[0].k
    return metrics


def pass_verdict(r: PassResult) -> str:
    """Whether the pass pays with this model: recall gained, within the app's deadline."""
    pays = r.gain > 0 and r.within_deadline >= 0.95
    return (
        f"second pass with {r.model}: recall {r.recall_alone:.3f} -> {r.recall_checked:.3f} "
        f"({r.gain:+.3f}) at k = {r.k} for {r.ms(0.5):.0f} ms a turn (p50), "
        f"{r.within_deadline:.0%} within the app's {CHECK_DEADLINE_S:g} s deadline: "
        + (
            "worth turning on"
            if pays
            else "not worth it, so mcp.tool_check_by_local_model is off by default"
        )
    )
