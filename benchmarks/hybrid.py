"""Every strategy against provider-only, on the project's evaluation set, in two parts.

1. Answer retention (``benchmarks/boost_retention.py``): the 72 questions, five library passages
   each, against an echo provider on 127.0.0.1; Boost's ``boost_answer_retention`` and
   ``boost_prompt_tokens_ratio`` (the contract's key) and the curve over three budgets come from
   here. About 15 s on 2 cores, plus one question with word pruning.
2. Accuracy with a real (weak) provider: llama.cpp's OpenAI-compatible server with the embedded
   Gemma 3 270M (base), the local model the same model in-process, each question asked with its
   document as the request's one source. Accuracy is a normalised contains-match of any gold
   answer in the final reply; both models are weak, so the accuracies are low and reported as
   they are. Questions go one document after another (the first question of each document, then
   the second…), each asked of every strategy for the first half of the time left, then of
   provider-only and Boost alone, while the next question fits the time left: the whole
   benchmark stays within the contract's five minutes on a busy 2-core machine, and the number of
   questions asked is reported (``HYBRIDMCP_BENCH_BUDGET_S`` changes the 270 s it aims for).
   Ratios are per strategy against provider-only on the same questions. The cache asks each of
   its questions twice. Both llama.cpp sides reuse a cached prompt prefix, which favours whichever
   strategy runs a question second: the order of strategies rotates from question to question.
   A user's own provider and local GGUF replace both sides: see ``benchmarks/user_models.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks import boost_retention
from benchmarks.boost_retention import load_questions
from benchmarks.report import emit, median, print_table
from benchmarks.user_models import BenchProvider, bench_provider, local_model_file
from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import ProviderConfig, WrapperConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.llm.provider_catalog import ModelPrice, PriceTable
from hybridmcp_app.orchestration.events import HybridTrace, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.semantic_cache import SemanticCache
from hybridmcp_app.orchestration.strategies import available_strategies

STRATEGIES = ("provider", "boost", "route", "cascade", "draft_refine", "verify", "cache",
              "failover", "parallel")  # fmt: skip
FULL = ("provider", "boost")  # cheap: asked on more questions
BUDGET_S = float(os.environ.get("HYBRIDMCP_BENCH_BUDGET_S", "270"))  # the contract allows 300
# USD per million tokens in and out: a small cloud model's list price.
ILLUSTRATIVE_PRICE = (0.15, 0.60)
PARAMETERS = ModelParameters(temperature=0.0, max_tokens=16, stop=("\n\n",))


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s.,:/-]", " ", text.lower()).split())


def correct(reply: str, answers: list[str]) -> bool:
    said = normalise(reply)
    return any(normalise(answer) in said for answer in answers)


@dataclass(frozen=True)
class Outcome:
    """One strategy on one question."""

    right: bool
    provider_tokens: int
    seconds: float
    cost_usd: float


async def ask(
    orchestrator: LLMOrchestrator,
    strategy: str,
    question: dict[str, object],
    document: ContextDocument,
) -> tuple[HybridTrace, float]:
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=str(question["question"])),),
        parameters=PARAMETERS,
        context=(document,),
    )
    started = time.perf_counter()
    trace = None
    async for event in orchestrator.run(available_strategies()[strategy], request):
        if isinstance(event, RunCompleted):
            trace = event.trace
    assert trace is not None
    return trace, time.perf_counter() - started


def interleaved(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every document's first question, then every document's second, and so on."""
    seen: dict[str, int] = {}
    ranked = []
    for index, question in enumerate(questions):
        rank = seen[question["document"]] = seen.get(question["document"], 0) + 1
        ranked.append((rank, index, question))
    return [question for _, _, question in sorted(ranked, key=lambda item: item[:2])]


async def evaluate(
    local: LlamaCppBackend, served: BenchProvider, workdir: Path, deadline: float
) -> dict[str, dict[str, list[Outcome]]]:
    """Questions of every strategy for half the time, then of ``FULL`` only, while the next
    question fits before ``deadline``."""
    questions, documents = load_questions()
    embedder = OnnxEmbedder()
    cache = SemanticCache(workdir / "cache.sqlite3", embedder)
    config = ProviderConfig.model_validate(
        {"name": "provider", "base_url": served.base_url, "default_model": served.model,
         "timeout_s": 120, "first_token_timeout_s": 120}
    )  # fmt: skip
    outcomes: dict[str, dict[str, list[Outcome]]] = {}
    # The test server's model has no price: price it like a small cloud model, for illustration.
    price_in, price_out = ILLUSTRATIVE_PRICE
    prices = PriceTable({served.model: ModelPrice(input=price_in, output=price_out)})
    async with OpenAICompatBackend(config, SecretStr(served.key), prices=prices) as provider:
        orchestrator = LLMOrchestrator(
            local, provider, WrapperConfig(), embedder=embedder, cache=cache
        )
        every_until = time.perf_counter() + (deadline - time.perf_counter()) / 2
        slowest = {STRATEGIES: 0.0, FULL: 0.0}
        for number, question in enumerate(interleaved(questions)):
            names = STRATEGIES if time.perf_counter() < every_until else FULL
            if time.perf_counter() + slowest[names] > deadline:
                break
            started = time.perf_counter()
            document = documents[question["document"]]
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                for _ in range(2 if name == "cache" else 1):
                    trace, seconds = await ask(orchestrator, name, question, document)
                    final = trace.final
                    outcome = Outcome(
                        bool(final and correct(final.text, question["answers"])),
                        trace.provider_prompt_tokens,
                        seconds,
                        trace.cost_usd or 0.0,
                    )
                    outcomes.setdefault(name, {}).setdefault(question["id"], []).append(outcome)
            slowest[names] = max(slowest[names], time.perf_counter() - started)
    return outcomes


async def both_parts(
    model: Path, served: BenchProvider, workdir: Path, deadline: float
) -> tuple[dict[str, float], dict[str, dict[str, list[Outcome]]], tuple[float, float]]:
    """The retention part, then the accuracy part; each part's seconds."""
    local = await LlamaCppBackend.open(model, InferenceSettings(n_ctx=2048))
    try:
        started = time.perf_counter()
        retention = await boost_retention.measure(local, boost_retention.MemoEmbedder(), 1)
        middle = time.perf_counter()
        outcomes = await evaluate(local, served, workdir, deadline)
        return retention, outcomes, (middle - started, time.perf_counter() - middle)
    finally:
        await local.close()


def main() -> None:
    started = time.perf_counter()
    deadline = started + BUDGET_S
    model = local_model_file(
        embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    )
    with (
        tempfile.TemporaryDirectory() as workdir,
        bench_provider(model, threads=1, batch_threads=2, n_ctx=2048) as served,
    ):
        retention, outcomes, (retention_s, accuracy_s) = asyncio.run(
            both_parts(model, served, Path(workdir), deadline)
        )
    baseline = {qid: runs[0] for qid, runs in outcomes["provider"].items()}
    metrics: dict[str, float] = {
        "baseline_accuracy": sum(o.right for o in baseline.values()) / len(baseline)
    }
    rows = []
    for name, by_question in outcomes.items():
        runs = [(qid, o) for qid, results in by_question.items() for o in results]
        accuracy = sum(o.right for _, o in runs) / len(runs)
        # Against provider-only on the very same questions.
        base_accuracy = sum(baseline[qid].right for qid, _ in runs) / len(runs)
        base_tokens = sum(baseline[qid].provider_tokens for qid, _ in runs)
        ratio = sum(o.provider_tokens for _, o in runs) / base_tokens if base_tokens else 0.0
        latency = median([o.seconds for _, o in runs])
        cost = sum(o.cost_usd for _, o in runs)
        base_cost = sum(baseline[qid].cost_usd for qid, _ in runs)
        metrics[f"{name}_prompt_tokens_ratio"] = ratio
        metrics[f"{name}_accuracy"] = accuracy
        metrics[f"{name}_accuracy_ratio"] = accuracy / base_accuracy if base_accuracy else 0.0
        metrics[f"{name}_latency_s"] = latency
        metrics[f"{name}_cost_usd"] = cost
        metrics[f"{name}_cost_ratio"] = cost / base_cost if base_cost else 0.0
        rows.append([name, len(runs), f"{accuracy:.2f}", f"{base_accuracy:.2f}", f"{ratio:.3f}",
                     f"{latency:.2f}", f"{cost * 1000:.3f}"])  # fmt: skip
    asked = len(baseline)
    every = len(outcomes.get("route", {}))
    print_table(
        f"Hybrid strategies vs provider-only, one source each ({asked} questions, the others "
        f"{every}; {accuracy_s:.0f} s)",
        rows,
        ["strategy", "asked", "accuracy", "provider-only on same", "provider prompt tokens ratio",
         "latency s (median)", "cost m$ (illustrative)"],
    )  # fmt: skip
    # Boost's token ratio is judged with five sources, as the library hands it (part 1); with
    # one source it mostly meets the quality floor, so that ratio is kept under its own name.
    metrics["boost_prompt_tokens_ratio_one_source"] = metrics["boost_prompt_tokens_ratio"]
    metrics.update(retention)
    total = time.perf_counter() - started
    metrics |= {"accuracy_questions": asked, "accuracy_questions_every_strategy": every,
                "retention_part_s": retention_s,
                "accuracy_part_s": accuracy_s, "total_s": total}  # fmt: skip
    print(f"parts: retention {retention_s:.0f} s, accuracy {accuracy_s:.0f} s; "
          f"total {total:.0f} s (contract: 300 s)")  # fmt: skip
    boost = metrics["boost_prompt_tokens_ratio"]
    verdict = "met" if boost <= 0.2 else "NOT met"
    print(f"boost prompt tokens ratio {boost:.3f}, five sources (target <= 0.20: {verdict}; "
          f"{metrics['boost_prompt_tokens_ratio_one_source']:.3f} with one source)")  # fmt: skip
    print(boost_retention.verdict(metrics))
    emit(
        "hybrid",
        metrics,
        "part 1: 72 questions over 12 fictional documents written by the project, 5 sources "
        "each, echo provider on 127.0.0.1 (boost_answer_retention, boost_prompt_tokens_ratio, "
        "boost_retention_at_R / boost_ratio_at_R for three budgets R); part 2: provider and "
        f"boost on {asked} of those questions, the others on {every} of them, one source each, "
        f"provider = {served.describe()}, local = {model.name} in-process; strategy order "
        "rotates",
    )


if __name__ == "__main__":
    main()
