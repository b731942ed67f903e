"""Every strategy against provider-only, on the project's evaluation set.

12 documents the project wrote (fictional, so no model knows the answers) with 72 questions and
short gold answers (``benchmarks/data/hybrid_eval.json``). Each question is asked with its
document as the request's source. The provider is llama.cpp's OpenAI-compatible server with the
embedded Gemma 3 270M (base), the local model the same model in-process: both are weak, so the
accuracies are low and reported as they are; the token ratios are what Boost is judged by.
Accuracy is a normalised contains-match of any gold answer in the final reply.

Provider-only and Boost run on the first five questions of each document (60), the other
strategies on the first question of each (12), to stay within five minutes on two cores
(all 72: HYBRIDMCP_BENCH_PER_DOCUMENT=6, about 4.5 minutes here). Ratios
are per strategy against provider-only on the same questions. The cache asks each of its
questions twice. Both llama.cpp sides reuse a cached prompt prefix, which favours whichever
strategy runs a question second: the order of strategies rotates from question to question.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from benchmarks.report import emit, median, print_table
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
from tests.helpers.llama_server import llama_server

DATA = Path(__file__).parent / "data" / "hybrid_eval.json"
FULL = ("provider", "boost")
SUBSET = ("route", "cascade", "draft_refine", "verify", "cache", "failover", "parallel")
FULL_PER_DOCUMENT, SUBSET_PER_DOCUMENT = 5, 1
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


async def evaluate(
    model: Path, base_url: str, key: str, workdir: Path
) -> dict[str, dict[str, list[Outcome]]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    documents = {
        d["id"]: ContextDocument(title=d["title"], text=d["text"]) for d in data["documents"]
    }
    per_document = int(os.environ.get("HYBRIDMCP_BENCH_PER_DOCUMENT", FULL_PER_DOCUMENT))
    seen: dict[str, int] = {}
    questions, subset_ids = [], set()
    for question in data["questions"]:
        rank = seen[question["document"]] = seen.get(question["document"], 0) + 1
        if rank <= per_document:
            questions.append(question)
        if rank <= SUBSET_PER_DOCUMENT:
            subset_ids.add(question["id"])
    local = await LlamaCppBackend.open(model, InferenceSettings(n_ctx=2048))
    embedder = OnnxEmbedder()
    cache = SemanticCache(workdir / "cache.sqlite3", embedder)
    config = ProviderConfig.model_validate(
        {"name": "provider", "base_url": base_url, "default_model": "gemma", "timeout_s": 120}
    )
    outcomes: dict[str, dict[str, list[Outcome]]] = {}
    # The test server's model has no price: price it like a small cloud model, for illustration.
    price_in, price_out = ILLUSTRATIVE_PRICE
    prices = PriceTable({"gemma": ModelPrice(input=price_in, output=price_out)})
    async with OpenAICompatBackend(config, SecretStr(key), prices=prices) as provider:
        orchestrator = LLMOrchestrator(
            local, provider, WrapperConfig(), embedder=embedder, cache=cache
        )
        for number, question in enumerate(questions):
            document = documents[question["document"]]
            names = [*FULL, *(SUBSET if question["id"] in subset_ids else ())]
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
    await local.close()
    return outcomes


def main() -> None:
    model = embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    with (
        tempfile.TemporaryDirectory() as workdir,
        llama_server(model, api_key="bench", threads=1, batch_threads=2, n_ctx=2048) as server,
    ):
        started = time.perf_counter()
        outcomes = asyncio.run(evaluate(model, server.base_url, server.api_key, Path(workdir)))
        took = time.perf_counter() - started
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
    print_table(
        f"Hybrid strategies vs provider-only ({took:.0f} s)",
        rows,
        ["strategy", "asked", "accuracy", "provider-only on same", "provider prompt tokens ratio",
         "latency s (median)", "cost m$ (illustrative)"],
    )  # fmt: skip
    boost = metrics["boost_prompt_tokens_ratio"]
    verdict = "met" if boost <= 0.2 else "NOT met"
    print(f"boost prompt tokens ratio {boost:.3f} (target <= 0.20: {verdict})")
    emit(
        "hybrid",
        metrics,
        "questions over 12 fictional documents written by the project; provider = llama.cpp "
        "server with Gemma 3 270M (base), local = the same model in-process; provider-only and "
        "boost on 5 questions per document, the others on 1; strategy order rotates",
    )


if __name__ == "__main__":
    main()
