"""How much of the answer survives Boost: the ceiling of its accuracy, with no capable provider.

Each of the 72 questions of ``benchmarks/data/hybrid_eval.json`` (12 fictional documents the
project wrote; every question has a gold answer written verbatim in its document) is asked with
five sources, as the library hands Boost five passages: the documents are cut by the library's
chunker (200 embedder tokens, 40 overlapping) and the five passages nearest the question by
embedding are its sources, the answering one put last in place of the fifth when the search
missed it (how often it did not is reported). The provider is ``tests/helpers/echo_provider.py`` on
127.0.0.1: it answers with the prompt it received, so an answer is retained when a gold answer is
in what the provider was sent. Retention is Boost's share of retained answers over provider-only's
(1.0 by construction); the token ratio is the provider's prompt tokens (counted by the echo server
with the project's estimate) over provider-only's. Boost runs at three budgets with the app's
defaults (sentence selection, no word pruning); word pruning, off by default since the local model
scores about 20 ms a token on 2 cores, runs on a few questions only.

Vectors are computed once per distinct text for the whole run (the budgets and questions share the
same passages and sentences): retention does not depend on that, and Boost's time per
turn is what the ``hybrid`` benchmark's llama.cpp part reports.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from benchmarks.report import emit, median, print_table
from hybridmcp_app.core.inference import ChatMessage, ContextDocument, InferenceRequest
from hybridmcp_app.core.llm_configs import ProviderConfig, WrapperConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.documents.document_models import ParsedDocument, ParsedPage
from hybridmcp_app.documents.text_chunker import chunk_document
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.context_prompt import split_sentences
from hybridmcp_app.orchestration.events import DecisionNote, RunCompleted
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategies import available_strategies
from tests.helpers.echo_provider import echo_provider

DATA = Path(__file__).parent / "data" / "hybrid_eval.json"
SOURCES_PER_QUESTION = 5
BUDGETS = (0.15, 0.25, 0.35)  # boost_target_ratio; the app's default is the first (below it the
# 160-token floor decides for five library passages, so smaller budgets send the same)
TARGET_RETENTION, TARGET_RATIO = 0.95, 0.35
# Word pruning is slow (about 30 s a question on 2 quiet cores): this many questions, the first of
# each document, when run alone; ``hybrid`` asks one.
PRUNE_QUESTIONS = int(os.environ.get("HYBRIDMCP_BENCH_PRUNE_QUESTIONS", "3"))
PARAMETERS = ModelParameters(temperature=0.0, max_tokens=16)


class MemoEmbedder(OnnxEmbedder):
    """The app's embedder, computing each distinct text's vector once per run."""

    def __init__(self) -> None:
        super().__init__()
        self._vectors: dict[str, np.ndarray[Any, Any]] = {}

    async def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = await super().embed(missing)
            self._vectors.update(zip(missing, vectors, strict=True))
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


def load_questions() -> tuple[list[dict[str, Any]], dict[str, ContextDocument]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    documents = {
        d["id"]: ContextDocument(title=d["title"], text=d["text"]) for d in data["documents"]
    }
    return data["questions"], documents


def check_verbatim(questions: list[dict[str, Any]], documents: dict[str, ContextDocument]) -> None:
    """Every question's first gold answer is written verbatim in its document."""
    for question in questions:
        if question["answers"][0] not in documents[question["document"]].text:
            raise ValueError(f"{question['id']}: {question['answers'][0]!r} is not in its text")


@dataclass(frozen=True)
class Passage:
    """One library-sized chunk of a document, as Boost gets it from a library search."""

    document: str  # the document's id
    source: ContextDocument


def library_passages(
    documents: dict[str, ContextDocument], count_tokens: Callable[[str], int]
) -> list[Passage]:
    """The documents cut by the library's own chunker at its default size."""
    passages = []
    for key, document in documents.items():
        parsed = ParsedDocument(
            path=Path(f"{key}.txt"), content_hash=key, kind="text", title=document.title,
            pages=(ParsedPage(text=document.text),),
        )  # fmt: skip
        for number, chunk in enumerate(chunk_document(parsed, count_tokens), 1):
            title = f"{document.title}, passage {number}"
            passages.append(Passage(key, ContextDocument(title=title, text=chunk.text)))
    return passages


async def sources_for(
    question: dict[str, Any], passages: list[Passage], embedder: OnnxEmbedder
) -> tuple[tuple[ContextDocument, ...], bool]:
    """The ``SOURCES_PER_QUESTION`` passages nearest the question, as a library search returns
    them, and whether they held the answer; when not, the nearest passage that holds it takes
    the last place (the measure is compression, not retrieval)."""
    vectors = await embedder.embed([question["question"], *(p.source.text for p in passages)])
    order = np.argsort(-(vectors[1:] @ vectors[0]), kind="stable")
    ranked = [passages[int(i)].source for i in order]
    top = ranked[:SOURCES_PER_QUESTION]
    found = any(retained(source.text, question["answers"][:1]) for source in top)
    if not found:
        holder = next(s for s in ranked if retained(s.text, question["answers"][:1]))
        top[-1] = holder
    return tuple(top), found


def retained(prompt: str, answers: list[str]) -> bool:
    """A gold answer reached the provider, verbatim (whitespace aside)."""
    said = " ".join(prompt.split())
    return any(" ".join(answer.split()) in said for answer in answers)


async def ask(
    orchestrator: LLMOrchestrator,
    strategy: str,
    question: str,
    sources: tuple[ContextDocument, ...],
) -> tuple[str, int, list[str]]:
    """The provider's reply (the echo: what it was sent), its prompt tokens and the notes."""
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=question),),
        parameters=PARAMETERS,
        context=sources,
    )
    notes: list[str] = []
    reply, tokens = "", 0
    async for event in orchestrator.run(available_strategies()[strategy], request):
        if isinstance(event, DecisionNote):
            notes.append(event.text)
        if isinstance(event, RunCompleted):
            final = event.trace.final
            reply, tokens = (final.text if final else ""), event.trace.provider_prompt_tokens
    return reply, tokens, notes


async def measure(
    local: LlamaCppBackend, embedder: OnnxEmbedder, prune_questions: int = PRUNE_QUESTIONS
) -> dict[str, float]:
    """Run every question provider-only and under Boost at each budget; print and return."""
    questions, documents = load_questions()
    check_verbatim(questions, documents)
    metrics: dict[str, float] = {}
    rows: list[list[object]] = []
    passages = library_passages(documents, embedder.count_tokens)
    retrieved = 0
    with echo_provider(api_key="bench") as echo:
        config = ProviderConfig.model_validate(
            {"name": "echo", "base_url": echo.base_url, "default_model": "echo"}
        )
        async with OpenAICompatBackend(config, SecretStr(echo.api_key)) as provider:
            runs: dict[str, list[tuple[bool, int, float]]] = {}
            plans = [("provider", WrapperConfig(), questions)]
            plans += [
                (f"boost@{ratio:.2f}", WrapperConfig(boost_target_ratio=ratio), questions)
                for ratio in BUDGETS
            ]
            firsts = {q["document"]: q for q in reversed(questions)}
            pruned = list(firsts.values())[:prune_questions]
            if pruned:
                plans.append(("boost+prune", WrapperConfig(boost_prune_words=True), pruned))
            for name, wrapper, asked in plans:
                orchestrator = LLMOrchestrator(local, provider, wrapper, embedder=embedder)
                for question in asked:
                    sources, found = await sources_for(question, passages, embedder)
                    if name == "provider":
                        retrieved += found
                    started = time.perf_counter()
                    strategy = "provider" if name == "provider" else "boost"
                    reply, tokens, _ = await ask(
                        orchestrator, strategy, question["question"], sources
                    )
                    took = time.perf_counter() - started
                    runs.setdefault(name, []).append(
                        (retained(reply, question["answers"]), tokens, took)
                    )
    base = {q["id"]: run for q, run in zip(questions, runs["provider"], strict=True)}
    base_retention = sum(r for r, _, _ in base.values()) / len(base)
    metrics["provider_answer_retention"] = base_retention
    for name, results in runs.items():
        asked = questions if name != "boost+prune" else pruned
        share = sum(r for r, _, _ in results) / len(results)
        base_share = sum(base[q["id"]][0] for q in asked) / len(asked)
        retention = share / base_share if base_share else 0.0
        ratio = sum(t for _, t, _ in results) / sum(base[q["id"]][1] for q in asked)
        seconds = median([s for _, _, s in results])
        rows.append([name, len(results), f"{retention:.3f}", f"{ratio:.3f}", f"{seconds:.2f}"])
        if name.startswith("boost@"):
            key = name.removeprefix("boost@")
            metrics[f"boost_retention_at_{key}"] = retention
            metrics[f"boost_ratio_at_{key}"] = ratio
        if name == f"boost@{WrapperConfig().boost_target_ratio:.2f}":
            metrics["boost_answer_retention"] = retention
            metrics["boost_prompt_tokens_ratio"] = ratio
        if name == "boost+prune":
            metrics["boost_pruned_retention"] = retention
            metrics["boost_pruned_prompt_tokens_ratio"] = ratio
            metrics["boost_pruned_latency_s"] = seconds
    print_table(
        f"Answer retention through Boost ({len(questions)} questions, "
        f"{SOURCES_PER_QUESTION} sources each; echo provider)",
        rows,
        ["run", "asked", "retention vs provider-only", "prompt tokens ratio", "s (median)"],
    )
    sentences = sum(len(split_sentences(d.text)) for d in documents.values())
    metrics["library_top5_had_answer"] = retrieved / len(questions)
    print(
        f"{len(documents)} documents, {sentences} sentences, {len(passages)} passages; the five "
        f"nearest passages held the answer for {retrieved} of {len(questions)} questions"
    )
    print(verdict(metrics))
    return metrics


def verdict(metrics: dict[str, float]) -> str:
    """Whether some measured budget reaches the target, and which."""
    meeting = [
        key.removeprefix("boost_retention_at_")
        for key, value in metrics.items()
        if key.startswith("boost_retention_at_")
        and value >= TARGET_RETENTION
        and metrics[key.replace("retention", "ratio")] <= TARGET_RATIO
    ]
    target = f"retention >= {TARGET_RETENTION} at a token ratio <= {TARGET_RATIO}"
    if meeting:
        return f"boost answer retention target ({target}): met at budget(s) {', '.join(meeting)}"
    return f"boost answer retention target ({target}): NOT met at any measured budget"


async def run() -> dict[str, float]:
    model = embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    local = await LlamaCppBackend.open(model, InferenceSettings(n_ctx=2048))
    try:
        return await measure(local, MemoEmbedder())
    finally:
        await local.close()


def main() -> None:
    started = time.perf_counter()
    metrics = asyncio.run(run())
    metrics["boost_retention_s"] = time.perf_counter() - started
    notes = (
        "72 questions over 12 fictional documents, 5 sources each; provider = an echo server on "
        f"127.0.0.1; boost at budgets {', '.join(f'{b:.2f}' for b in BUDGETS)}"
    )
    emit("boost_retention", metrics, notes)


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main()
