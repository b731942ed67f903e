"""Which embedded model chats, and which serves base-model jobs: both measured side by side.

For each embedded model (``hybridmcp_app.llm.embedded_models``), loaded through the app's
``LlamaCppBackend`` in a fresh subprocess (so load time and memory are its own):
- chat: 10 simple questions asked through the model's own chat template (Gemma base has none:
  the backend's fallback ``gemma`` format), greedy, 48 tokens; a hit when the answer contains
  the expected word;
- continue-text: 5 few-shot patterns sent raw (``raw_prompt``), greedy, 8 tokens; a hit when
  the expected word comes first (what the base-model jobs rely on);
- decode tokens/s (median of the chat answers), load time, resident memory after loading.

Measured on 2 busy cores (n_ctx 1024): SmolLM2 135M Instruct 5/10 chat, 4/5 few-shot, 72 tok/s,
loads in 0.27 s, +148 MB; Gemma 3 270M base 1/10 chat (it echoes the question), 5/5 few-shot,
39 tok/s, 0.88 s, +324 MB. So SmolLM2 is the chat model, Gemma the base model.

Which scores tokens for Boost's word pruning: each of the 12 documents of
``benchmarks/data/hybrid_eval.json`` scored by each model as Boost scores, pruned to half its
characters, and the 72 questions' gold answers counted. By surprisal alone SmolLM2 kept 34, Gemma
37, random scores 37 (neither beats chance: the answers are numbers and names, which a model finds
surprising only now and then); as the app prunes (numbers, names and the question's words kept)
SmolLM2 65, Gemma 66. Scoring, the models taking turns on one 1,600-character piece: SmolLM2 3.9
ms/token, Gemma 4.2 (ratio 1.09, 2 shared cores). One question of 72 does not pay for a second
model's 324 MB: the loaded model scores.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from pydantic import BaseModel

from benchmarks.boost_retention import load_questions, retained
from benchmarks.report import emit, median, print_table
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, StreamCompleted
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import (
    BASE_EMBEDDED,
    DEFAULT_EMBEDDED,
    EMBEDDED_MODELS,
    embedded_by_name,
)

CACHE = Path(tempfile.gettempdir()) / "hybridmcp-bench-cache"
SETTINGS = InferenceSettings(n_ctx=1024)
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "paris"),
    ("What color is the sky on a clear day?", "blue"),
    ("How many legs does a spider have?", "eight|8"),
    ("What is 2 plus 2?", "four|4"),
    ("What is the opposite of hot?", "cold"),
    ("Which planet do we live on?", "earth"),
    ("What animal says meow?", "cat"),
    ("What do bees make?", "honey"),
    ("What is frozen water called?", "ice"),
    ("How many days are in a week?", "seven|7"),
)
PATTERNS: tuple[tuple[str, str], ...] = (
    ("cat -> cats\ndog -> dogs\nhouse ->", "houses"),
    ("France: Paris\nGermany: Berlin\nItaly:", "rome"),
    ("one, two, three, four,", "five"),
    ("Q: Is the sun hot? A: yes\nQ: Is ice hot? A: no\nQ: Is fire hot? A:", "yes"),
    ("big -> small\nup -> down\nleft ->", "right"),
)
KEEP_SHARE = 0.5  # word pruning leaves this share of each document's characters
SCORE_DOCUMENTS = 12  # of benchmarks/data/hybrid_eval.json's 12 (72 questions)
SCORE_CHUNK_CHARS = 1600  # as compression.SCORE_CHUNK_CHARS: one piece Boost scores at a time
SPEED_ROUNDS = 5


class Pruned(BaseModel):
    """Gold answers still in the text after word pruning, and what scoring cost."""

    facts: int  # pruned on surprisal alone: the scorer's own judgement
    facts_protected: int  # as the app prunes: numbers, names and question words kept
    questions: int


class Word(BaseModel):
    """A word of a document (leading whitespace included) and its surprisal."""

    text: str
    surprisal: float


class Measured(BaseModel):
    """One model's numbers, passed from its subprocess as JSON."""

    chat: int
    pattern: int
    tps: float
    load_s: float
    rss_mb: float
    answers: list[str]
    pruned: Pruned


async def _ask(backend: object, text: str, *, raw: bool, tokens: int) -> tuple[str, float, int]:
    from hybridmcp_app.llm.llama_backend import LlamaCppBackend

    assert isinstance(backend, LlamaCppBackend)
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        raw_prompt=raw,
        parameters=ModelParameters(temperature=0.0, max_tokens=tokens),
    )
    async for event in backend.stream(request):
        if isinstance(event, StreamCompleted):
            response = event.response
            return (
                response.text,
                response.timings.decode_tokens_per_s or 0.0,
                response.usage.completion_tokens,
            )
    raise RuntimeError("the answer did not complete")


def _hit(answer: str, expected: str, *, first: bool) -> bool:
    words = "".join(c if c.isalnum() else " " for c in answer.lower()).split()
    wanted = expected.split("|")
    return bool(words) and words[0] in wanted if first else any(w in words for w in wanted)


def prune_words(words: list[Word], terms: set[str] | None) -> str:
    """The text with its least surprising words dropped until ``KEEP_SHARE`` of its characters
    are left, as Boost's word pruning drops them; with ``terms``, never a word the app protects
    (numbers, names, the question's words)."""
    from hybridmcp_app.orchestration.compression import is_protected

    total = sum(len(w.text) for w in words)
    over = total - KEEP_SHARE * total
    dropped: set[int] = set()
    for index in sorted(range(len(words)), key=lambda i: words[i].surprisal):
        if over <= 0:
            break
        if terms is None or not is_protected(words[index].text, terms):
            dropped.add(index)
            over -= len(words[index].text)
    return "".join(w.text for i, w in enumerate(words) if i not in dropped)


def count_kept(scored: dict[str, list[Word]], *, protect: bool) -> int:
    """Questions whose gold answer survives pruning their document."""
    from hybridmcp_app.orchestration.compression import question_terms

    questions, _ = load_questions()
    kept = 0
    for question in questions:
        if question["document"] not in scored:
            continue
        terms = question_terms(question["question"]) if protect else None
        kept += retained(prune_words(scored[question["document"]], terms), question["answers"])
    return kept


async def _prune_facts(backend: object) -> Pruned:
    """Score each document with ``backend`` (as Boost does, in the app's chunks) and prune it."""
    from hybridmcp_app.llm.llama_backend import LlamaCppBackend
    from hybridmcp_app.orchestration.compression import _scored_words

    assert isinstance(backend, LlamaCppBackend)
    questions, documents = load_questions()
    scored: dict[str, list[Word]] = {}
    for key in list(documents)[:SCORE_DOCUMENTS]:
        paragraphs = documents[key].text.split("\n")
        words = await _scored_words(backend.token_surprisals, paragraphs)
        scored[key] = [Word(text=w.text, surprisal=w.surprisal)
                       for paragraph in words for w in paragraph]  # fmt: skip
    return Pruned(
        facts=count_kept(scored, protect=False),
        facts_protected=count_kept(scored, protect=True),
        questions=sum(q["document"] in scored for q in questions),
    )


async def _score_speeds(rounds: int = SPEED_ROUNDS) -> dict[str, float]:
    """Milliseconds of scoring per token, each model's median over ``rounds`` of the same text,
    the models taking turns in one process (so a busy machine slows both alike)."""
    from hybridmcp_app.llm.llama_backend import LlamaCppBackend

    _, documents = load_questions()
    text = next(iter(documents.values())).text[:SCORE_CHUNK_CHARS]
    backends = {
        model.name: await LlamaCppBackend.open(model.locate(CACHE), SETTINGS)
        for model in EMBEDDED_MODELS
    }
    times: dict[str, list[float]] = {name: [] for name in backends}
    for _ in range(rounds):
        for name, backend in backends.items():
            started = time.perf_counter()
            pieces = await backend.token_surprisals(text)
            times[name].append(1000 * (time.perf_counter() - started) / len(pieces))
    for backend in backends.values():
        await backend.close()
    return {name: median(values) for name, values in times.items()}


def random_pruning(seed: int = 7) -> tuple[int, int]:
    """The same pruning with random surprisals: what a scorer must beat."""
    questions, documents = load_questions()
    chance = random.Random(seed)
    scored = {
        key: [Word(text=(" " if i else "") + word, surprisal=chance.random())
              for i, word in enumerate(documents[key].text.split())]
        for key in list(documents)[:SCORE_DOCUMENTS]
    }  # fmt: skip
    asked = sum(q["document"] in scored for q in questions)
    return count_kept(scored, protect=False), asked


async def _measure(name: str) -> Measured:
    from hybridmcp_app.llm.llama_backend import LlamaCppBackend

    model = embedded_by_name(name)
    path = model.locate(CACHE)
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    backend = await LlamaCppBackend.open(path, SETTINGS, display_label=model.label)
    load_s = time.perf_counter() - started
    rss_mb = (psutil.Process().memory_info().rss - rss_before) / 2**20
    chat, speeds, answers = 0, [], []
    for question, expected in QUESTIONS:
        text, tps, count = await _ask(backend, question, raw=False, tokens=48)
        chat += _hit(text, expected, first=False)
        if count > 4:
            speeds.append(tps)
        answers.append(text.strip().replace("\n", " ")[:70])
    pattern = 0
    for prompt, expected in PATTERNS:
        text, _, _ = await _ask(backend, prompt, raw=True, tokens=8)
        pattern += _hit(text, expected, first=True)
    pruned = await _prune_facts(backend)
    await backend.close()
    return Measured(
        chat=chat,
        pattern=pattern,
        tps=median(speeds) if speeds else 0.0,
        load_s=load_s,
        rss_mb=rss_mb,
        answers=answers,
        pruned=pruned,
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(asyncio.run(_measure(sys.argv[2])).model_dump_json())
        return
    results: dict[str, Measured] = {}
    for model in EMBEDDED_MODELS:
        model.locate(CACHE)  # assemble outside the timed run
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.embedded_models", "--one", model.name],
            check=True,
            capture_output=True,
            text=True,
        )
        results[model.name] = Measured.model_validate_json(done.stdout.strip().splitlines()[-1])
    rows = [
        [
            name,
            f"{r.chat}/{len(QUESTIONS)}",
            f"{r.pattern}/{len(PATTERNS)}",
            f"{r.tps:.1f}",
            f"{r.load_s:.2f}",
            f"{r.rss_mb:.0f}",
        ]
        for name, r in results.items()
    ]
    print_table(
        f"embedded models, greedy, n_ctx {SETTINGS.n_ctx}",
        rows,
        ["model", "chat hits", "few-shot hits", "decode tok/s", "load s", "RSS MB"],
    )
    for name, r in results.items():
        print(name)
        for (question, _), answer in zip(QUESTIONS, r.answers, strict=True):
            print(f"  {question} -> {answer}")
    chance, asked = random_pruning()
    speeds = asyncio.run(_score_speeds())
    print_table(
        f"Boost's word pruning to {KEEP_SHARE:.0%} of each document's characters: gold answers "
        f"left of {asked}",
        [[name, f"{r.pruned.facts}", f"{r.pruned.facts_protected}",
          f"{speeds[name]:.1f}"] for name, r in results.items()]
        + [["random scores", f"{chance}", "", ""]],
        ["scorer", "by surprisal alone", "as the app prunes", "scoring ms / token"],
    )  # fmt: skip
    metrics: dict[str, float] = {"random_pruned_fact_retention": chance / asked}
    for name, r in results.items():
        key = name.split("-")[0]
        metrics[f"{key}_chat_accuracy"] = r.chat / len(QUESTIONS)
        metrics[f"{key}_fewshot_accuracy"] = r.pattern / len(PATTERNS)
        metrics[f"{key}_decode_tps"] = r.tps
        metrics[f"{key}_load_s"] = r.load_s
        metrics[f"{key}_rss_mb"] = r.rss_mb
        metrics[f"{key}_pruned_fact_retention"] = r.pruned.facts / r.pruned.questions
        metrics[f"{key}_pruned_fact_retention_protected"] = (
            r.pruned.facts_protected / r.pruned.questions
        )
        metrics[f"{key}_score_ms_per_token"] = speeds[name]
    metrics["base_vs_chat_score_time_ratio"] = (
        speeds[BASE_EMBEDDED.name] / speeds[DEFAULT_EMBEDDED.name]
    )
    emit(
        "embedded_models",
        metrics,
        f"each embedded model in its own process via LlamaCppBackend: {len(QUESTIONS)} chat "
        f"questions through its chat template (hit = expected word in a 48-token greedy answer), "
        f"{len(PATTERNS)} raw few-shot patterns (hit = expected word first), decode tok/s median; "
        f"token-surprisal scoring: each of {SCORE_DOCUMENTS} documents scored as Boost scores "
        f"(the app's chunks), its least surprising words dropped to {KEEP_SHARE:.0%} of its "
        f"characters, gold answers of {asked} questions left verbatim (random scores: "
        f"{chance}); scoring ms per token: median of {SPEED_ROUNDS} turns each on one "
        f"{SCORE_CHUNK_CHARS}-character piece, the models alternating in one process",
    )


if __name__ == "__main__":
    main()
