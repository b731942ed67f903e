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
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from pydantic import BaseModel

from benchmarks.report import emit, median, print_table
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, StreamCompleted
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_models import EMBEDDED_MODELS, embedded_by_name

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


class Measured(BaseModel):
    """One model's numbers, passed from its subprocess as JSON."""

    chat: int
    pattern: int
    tps: float
    load_s: float
    rss_mb: float
    answers: list[str]


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
    await backend.close()
    return Measured(
        chat=chat,
        pattern=pattern,
        tps=median(speeds) if speeds else 0.0,
        load_s=load_s,
        rss_mb=rss_mb,
        answers=answers,
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
    metrics: dict[str, float] = {}
    for name, r in results.items():
        key = name.split("-")[0]
        metrics[f"{key}_chat_accuracy"] = r.chat / len(QUESTIONS)
        metrics[f"{key}_fewshot_accuracy"] = r.pattern / len(PATTERNS)
        metrics[f"{key}_decode_tps"] = r.tps
        metrics[f"{key}_load_s"] = r.load_s
        metrics[f"{key}_rss_mb"] = r.rss_mb
    emit(
        "embedded_models",
        metrics,
        f"each embedded model in its own process via LlamaCppBackend: {len(QUESTIONS)} chat "
        f"questions through its chat template (hit = expected word in a 48-token greedy answer), "
        f"{len(PATTERNS)} raw few-shot patterns (hit = expected word first), decode tok/s median",
    )


if __name__ == "__main__":
    main()
