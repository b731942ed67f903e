"""Which tools the local side offers the provider: recall@k of the needed tools and the tool
definition tokens sent, selection versus all tools, on the labelled set in
``benchmarks/data/tool_selection/`` (its README says how it was made).

Set: 162 real tools of 17 servers (our five, the reference "everything" server and catalogue
servers, each listed over stdio) and 202 requests, each naming the tool(s) that serve it; a
request counts as recalled when every one of its tools is among the k offered.

Ranking: the app's ``rank_tools`` (``services/tool_selection``: the embedding's cosine fused with
BM25 by reciprocal rank; the rows labelled "embed") over the app's ``OnnxEmbedder``,
tool vectors embedded once and cached (as ``ToolIndex`` does), the query embedded per turn.
Compared side by side: three tool texts (the app's ``tool_text``: server, name, description,
parameters with their descriptions; name + description; name + description + parameter names),
three query texts (the app's ``recent_turns`` over the last 1, 2 or 3 messages), and a keyword
baseline (BM25 alone, ``rank_bm25``, over the same texts), and the app's ranking fused with BM25
once more (``hybrid_*``, the rows labelled "RRF": a second fusion, reported for comparison).

Tokens: each request's ``tools`` as the tool loop sends them (``ToolOffer.schemas``: the offered
tools' OpenAI definitions, plus ``search_tools`` while any tool is left out), counted by the
app's ``tool_tokens``; ``tool_tokens_cut`` is all tools' tokens ÷ the offered tokens, averaged
per request. ``k`` is the smallest of ``KS`` whose recall reaches 0.95 with the app's choices.
Timing: ``rank_tools`` per turn (query embedding + ranking), alternating with BM25, p50/p95.
Targets: tool_tokens_cut >= 5 at recall >= 0.95; selection <= 30 ms per turn.

The local model's second pass (``mcp.tool_check_by_local_model``, ``services/tool_check``):
ranking alone versus ranking + pass at k = 10, on a fixed subset (every 8th request),
with the embedded SmolLM2 and the user's GGUF (``HYBRIDMCP_BENCH_LOCAL_MODEL``); how, in
``benchmarks/tool_check_pass.py``. Keys ``second_pass_recall_gain`` (recall + pass − recall
alone, same requests, same k) and ``second_pass_ms_p50`` (what the pass adds per turn), and
``second_pass_user_*`` for the user's model. The setting's default (off) follows from them
(``pass_verdict`` prints which way each model's numbers point).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]

from benchmarks.report import emit, print_table
from benchmarks.tool_check_pass import (
    CHECK_EVERY,
    PASS_HEADERS,
    PASS_K,
    CheckCase,
    PassResult,
    pass_metrics,
    pass_rows,
    pass_verdict,
    second_pass,
)
from benchmarks.user_models import LOCAL_MODEL, local_model_file
from hybridmcp_app.core.inference import ChatMessage
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_host.mcp_items import McpTool
from hybridmcp_app.orchestration.tool_offer import search_tools_schema, tool_tokens
from hybridmcp_app.services.tool_selection import rank_tools, recent_turns, tool_text

DATA = Path(__file__).resolve().parent / "data" / "tool_selection"
KS = (3, 5, 8, 10, 15, 20, 25, 30, 40)
RRF_C = 60  # reciprocal rank fusion's constant (Cormack et al.)
MIN_TOOLS, MIN_REQUESTS = 60, 150
TARGET_RECALL, TARGET_CUT, TARGET_MS = 0.95, 5.0, 30.0
TIMING_ROUNDS = 3  # every request is timed this many times (alternating app and BM25)
Vectors = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class LabelledRequest:
    """One request of the set: the conversation before it, its text, the tools that serve it."""

    id: str
    request: str
    tools: tuple[str, ...]
    tags: tuple[str, ...]
    history: tuple[ChatMessage, ...]

    def messages(self) -> list[ChatMessage]:
        return [*self.history, ChatMessage(role="user", content=self.request)]


def load_tools(folder: Path = DATA) -> list[McpTool]:
    """The set's tools, as the host lists them (``server__name``)."""
    entries = json.loads((folder / "tools.json").read_text(encoding="utf-8"))
    return [
        McpTool(
            server=entry["server"],
            name=entry["name"],
            description=entry["description"],
            input_schema=entry["inputSchema"],
        )
        for entry in entries
    ]


def load_requests(folder: Path = DATA) -> list[LabelledRequest]:
    lines = (folder / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    requests = []
    for line in filter(str.strip, lines):
        row = json.loads(line)
        history = tuple(ChatMessage(role=t["role"], content=t["content"]) for t in row["history"])
        requests.append(
            LabelledRequest(
                row["id"], row["request"], tuple(row["tools"]), tuple(row["tags"]), history
            )
        )
    return requests


def set_problems(tools: Sequence[McpTool], requests: Sequence[LabelledRequest]) -> list[str]:
    """What is wrong with the set (empty: well-formed)."""
    problems = []
    names = [tool.qualified_name for tool in tools]
    if len(set(names)) != len(names):
        problems.append("a tool is listed twice")
    if len(names) < MIN_TOOLS or len(requests) < MIN_REQUESTS:
        problems.append(f"{len(names)} tools, {len(requests)} requests: too few")
    known = set(names)
    for request in requests:
        problems += [f"{request.id} names {n}, not in tools.json" for n in request.tools
                     if n not in known]  # fmt: skip
        if not request.tools:
            problems.append(f"{request.id} names no tool")
        if request.history and request.history[-1].role != "assistant":
            problems.append(f"{request.id}: its history does not end with the assistant")
    texts = [" ".join(r.request.lower().split()) for r in requests]
    if len(set(texts)) != len(texts):
        problems.append("a request is listed twice")
    if len({r.id for r in requests}) != len(requests):
        problems.append("an id is used twice")
    return problems


def _words(name: str) -> str:
    return " ".join(re.split(r"[_\-\s]+", name)).strip()


def _name_description(tool: McpTool) -> str:
    return f"{_words(tool.server)}: {_words(tool.name)}\n{tool.description}"


def _with_parameter_names(tool: McpTool) -> str:
    properties = tool.input_schema.get("properties")
    names = ", ".join(_words(str(n)) for n in properties) if isinstance(properties, dict) else ""
    return f"{_name_description(tool)}\nparameters: {names}" if names else _name_description(tool)


TOOL_TEXTS: dict[str, Callable[[McpTool], str]] = {
    "app tool_text": tool_text,
    "name+description": _name_description,
    "name+description+param names": _with_parameter_names,
}
QUERY_TURNS = {"last turn": 1, "last 2 messages": 2, "last 3 messages": 3}
APP_TEXT, APP_TURNS = "app tool_text", "last 3 messages"


class CachedEmbed:
    """``embed`` for ``rank_tools``: the tools' vectors come from a cache filled once (as the
    app's ``ToolIndex`` keeps them); any other text (the turns) is embedded on every call."""

    def __init__(self, embedder: OnnxEmbedder, tool_texts: Sequence[str]) -> None:
        self.embedder = embedder
        unique = list(dict.fromkeys(tool_texts))
        self.cache = dict(zip(unique, embedder.embed_sync(unique), strict=True))

    def __call__(self, texts: Sequence[str]) -> Vectors:
        missing = [text for text in texts if text not in self.cache]
        fresh = (
            dict(zip(missing, self.embedder.embed_sync(missing), strict=True)) if missing else {}
        )
        return np.stack([self.cache[t] if t in self.cache else fresh[t] for t in texts])


class Bm25Ranker:
    """The keyword baseline: BM25 (Okapi) over the same tool texts, lower-cased word tokens."""

    def __init__(self, tool_texts: dict[str, str]) -> None:
        self.names = list(tool_texts)
        self.index = BM25Okapi([self.tokens(tool_texts[name]) for name in self.names])

    @staticmethod
    def tokens(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    def rank(self, query_texts: Sequence[str]) -> list[str]:
        scores = self.index.get_scores(self.tokens(" ".join(query_texts)))
        order = sorted(range(len(self.names)), key=lambda i: (-float(scores[i]), self.names[i]))
        return [self.names[i] for i in order]


def fused(*rankings: Sequence[str]) -> list[str]:
    """Reciprocal rank fusion of several rankings of the same names."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for place, name in enumerate(ranking, 1):
            scores[name] = scores.get(name, 0.0) + 1 / (RRF_C + place)
    return sorted(scores, key=lambda name: (-scores[name], name))


def recall_at(
    rankings: Sequence[Sequence[str]], requests: Sequence[LabelledRequest], k: int
) -> float:
    """The share of requests all of whose tools are among the first ``k``."""
    kept = [set(r.tools) <= set(ranking[:k]) for ranking, r in zip(rankings, requests, strict=True)]
    return sum(kept) / len(kept)


def smallest_k(recalls: dict[int, float]) -> int | None:
    """The smallest k whose recall reaches the target; None when none does."""
    return next((k for k in sorted(recalls) if recalls[k] >= TARGET_RECALL), None)


class TokenCount:
    """Tool-definition tokens of a request, all tools versus an offer of the first k."""

    def __init__(self, tools: Sequence[McpTool]) -> None:
        self.schemas = {tool.qualified_name: tool.openai_schema() for tool in tools}
        self.all_tokens = tool_tokens(self.schemas.values())

    def offered(self, names: Sequence[str]) -> int:
        """As ``ToolOffer.schemas`` sends them: the offered tools, and ``search_tools`` while any
        tool is left out."""
        left_out = len(self.schemas) - len(set(names))
        extra = [search_tools_schema(left_out)] if left_out else []
        return tool_tokens([*(self.schemas[n] for n in names), *extra])

    def cut(self, rankings: Sequence[Sequence[str]], k: int) -> float:
        """All tools' tokens ÷ the offered tokens, averaged per request."""
        return statistics.fmean(self.all_tokens / self.offered(r[:k]) for r in rankings)


def percentile(values: Sequence[float], share: float) -> float:
    return float(np.percentile(np.array(values), share * 100))


@dataclass
class Results:
    recalls: dict[str, dict[int, float]]  # variant → k → recall
    rankings: dict[str, list[list[str]]]  # variant → per-request ranking
    app_ms: list[float]
    bm25_ms: list[float]
    embed: CachedEmbed  # the app's tool texts' vectors, cached


def measure(tools: Sequence[McpTool], requests: Sequence[LabelledRequest]) -> Results:
    embedder = OnnxEmbedder()
    queries = {label: [recent_turns(r.messages(), turns) for r in requests]
               for label, turns in QUERY_TURNS.items()}  # fmt: skip
    rankings: dict[str, list[list[str]]] = {}
    bm25: dict[str, Bm25Ranker] = {}
    embeds: dict[str, CachedEmbed] = {}
    for text_label, text_of in TOOL_TEXTS.items():
        texts = {tool.qualified_name: text_of(tool) for tool in tools}
        embeds[text_label] = embed = CachedEmbed(embedder, list(texts.values()))
        bm25[text_label] = Bm25Ranker(texts)
        for query_label, turns in queries.items():
            rankings[f"embed | {text_label} | {query_label}"] = [
                [name for name, _ in rank_tools(texts, q, embed)] for q in turns
            ]
            rankings[f"BM25  | {text_label} | {query_label}"] = [
                bm25[text_label].rank(q) for q in turns
            ]
        for query_label in (APP_TURNS,):  # the two fused (embedding + BM25), the app's turns
            pairs = zip(rankings[f"embed | {text_label} | {query_label}"],
                        rankings[f"BM25  | {text_label} | {query_label}"], strict=True)  # fmt: skip
            rankings[f"RRF   | {text_label} | {query_label}"] = [fused(a, b) for a, b in pairs]
    recalls = {label: {k: recall_at(r, requests, k) for k in KS} for label, r in rankings.items()}
    app_texts = {tool.qualified_name: tool_text(tool) for tool in tools}
    app_ms: list[float] = []
    bm25_ms: list[float] = []
    for _ in range(TIMING_ROUNDS):  # one turn at a time, the app and BM25 alternating
        for turn_texts in queries[APP_TURNS]:
            started = time.perf_counter()
            rank_tools(app_texts, turn_texts, embeds[APP_TEXT])
            app_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            bm25[APP_TEXT].rank(turn_texts)
            bm25_ms.append((time.perf_counter() - started) * 1000)
    return Results(recalls, rankings, app_ms, bm25_ms, embeds[APP_TEXT])


def verdict(recall: float, cut: float, ms: float) -> str:
    met = recall >= TARGET_RECALL and cut >= TARGET_CUT and ms <= TARGET_MS
    return (f"targets (cut >= {TARGET_CUT:g} at recall >= {TARGET_RECALL}, <= {TARGET_MS:g} ms): "
            + ("met" if met else "NOT met"))  # fmt: skip


def main() -> None:
    tools, requests = load_tools(), load_requests()
    problems = set_problems(tools, requests)
    if problems:
        raise SystemExit("the labelled set is not well-formed: " + "; ".join(problems))
    results = measure(tools, requests)
    tokens = TokenCount(tools)
    rows = []
    for label, recalls in results.recalls.items():
        k = smallest_k(recalls)
        cut = f"{tokens.cut(results.rankings[label], k):.1f}" if k else "-"
        rows.append([label, *(f"{recalls[k_]:.3f}" for k_ in KS), k or "-", cut])
    print_table(
        f"recall@k over {len(requests)} requests and {len(tools)} tools "
        f"(k@0.95 = smallest k reaching recall {TARGET_RECALL}; cut = all-tools tokens ÷ offered)",
        rows,
        ["ranking | tool text | query", *(f"@{k}" for k in KS), "k@0.95", "cut"],
    )
    app = f"embed | {APP_TEXT} | {APP_TURNS}"
    base = f"BM25  | {APP_TEXT} | {APP_TURNS}"
    hybrid = f"RRF   | {APP_TEXT} | {APP_TURNS}"
    k = smallest_k(results.recalls[app]) or max(KS)
    bm25_k = smallest_k(results.recalls[base]) or max(KS)
    hybrid_k = smallest_k(results.recalls[hybrid]) or max(KS)
    metrics: dict[str, float] = {
        "k": k,
        "recall": results.recalls[app][k],
        "tool_tokens_cut": tokens.cut(results.rankings[app], k),
        "select_ms_p50": percentile(results.app_ms, 0.5),
        "selection_ms_p50": percentile(results.app_ms, 0.5),
        "selection_ms_p95": percentile(results.app_ms, 0.95),
        "all_tools_tokens": tokens.all_tokens,
        "offered_tokens_mean": statistics.fmean(
            tokens.offered(r[:k]) for r in results.rankings[app]
        ),
        **{f"recall_at_{k_}": results.recalls[app][k_] for k_ in KS},
        "bm25_k": bm25_k,
        "bm25_recall": results.recalls[base][bm25_k],
        "bm25_recall_at_k": results.recalls[base][k],
        "bm25_tool_tokens_cut": tokens.cut(results.rankings[base], bm25_k),
        "bm25_ms_p50": percentile(results.bm25_ms, 0.5),
        "hybrid_k": hybrid_k,
        "hybrid_recall": results.recalls[hybrid][hybrid_k],
        "hybrid_tool_tokens_cut": tokens.cut(results.rankings[hybrid], hybrid_k),
        "tools": len(tools),
        "requests": len(requests),
    }
    print(f"app choices ({APP_TEXT}, {APP_TURNS}): k = {k}, recall {metrics['recall']:.3f}, "
          f"tool tokens {tokens.all_tokens} -> {metrics['offered_tokens_mean']:.0f} "
          f"(cut {metrics['tool_tokens_cut']:.1f}x); selection p50 "
          f"{metrics['selection_ms_p50']:.1f} ms, p95 "
          f"{metrics['selection_ms_p95']:.1f} ms")  # fmt: skip
    print(f"BM25 baseline: k = {bm25_k}, recall {metrics['bm25_recall']:.3f}, cut "
          f"{metrics['bm25_tool_tokens_cut']:.1f}x; at k = {k}: recall "
          f"{metrics['bm25_recall_at_k']:.3f}; p50 {metrics['bm25_ms_p50']:.2f} ms")  # fmt: skip
    print(f"embedding + BM25 fused (RRF): k = {hybrid_k}, recall {metrics['hybrid_recall']:.3f}, "
          f"cut {metrics['hybrid_tool_tokens_cut']:.1f}x")  # fmt: skip
    print(verdict(metrics["recall"], metrics["tool_tokens_cut"], metrics["selection_ms_p95"]))
    passes = measure_second_pass(tools, requests, results.embed, PASS_K)
    metrics |= pass_metrics(passes)
    emit(
        "tool_selection",
        metrics,
        notes=f"{len(requests)} labelled requests over {len(tools)} real tools of 17 servers "
        "(benchmarks/data/tool_selection); the app's rank_tools over OnnxEmbedder (MiniLM int8), "
        f"tool_text, recent_turns({QUERY_TURNS[APP_TURNS]}), tool vectors cached; k = the "
        f"smallest of {list(KS)} reaching recall {TARGET_RECALL}; tokens = the tool loop's "
        "tools (offered + search_tools) by tool_tokens; ms = query embedding + ranking per turn, "
        "alternating with a BM25 baseline (rank_bm25) over the same texts; hybrid = the two "
        "fused by reciprocal rank (a second fusion on top of the app's, for comparison); "
        "second_pass_* = "
        f"the local model's check vs the ranking alone at k = {PASS_K} on every {CHECK_EVERY}th "
        "request (SmolLM2 "
        "135M; second_pass_user_* = HYBRIDMCP_BENCH_LOCAL_MODEL's GGUF), ms = the pass's own "
        "time per turn, run without a deadline",
    )


def measure_second_pass(
    tools: Sequence[McpTool], requests: Sequence[LabelledRequest], embed: CachedEmbed, k: int
) -> list[PassResult]:
    """The ranking alone versus ranking + the local model's pass (``tool_check_pass``)."""
    texts = {tool.qualified_name: tool_text(tool) for tool in tools}
    cases = [
        CheckCase(recent_turns(r.messages(), QUERY_TURNS[APP_TURNS]), frozenset(r.tools))
        for r in requests[::CHECK_EVERY]
    ]
    user = local_model_file(Path()) if os.environ.get(LOCAL_MODEL, "").strip() else None
    passes = second_pass(user, tools, cases, lambda turns: rank_tools(texts, turns, embed), k)
    print()
    print_table(
        f"the local model's second pass at k = {k} (2k = {2 * k} candidates) on every "
        f"{CHECK_EVERY}th request, side by side with the ranking alone",
        pass_rows(passes),
        PASS_HEADERS,
    )
    for result in passes:
        print(pass_verdict(result))
    return passes


if __name__ == "__main__":
    main()
