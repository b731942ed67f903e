"""Speculative decoding with a draft model: decode speed with a small same-tokenizer model
drafting vs plain decoding, side by side, and whether the answers stayed the same.

Only meaningful with a main model several times bigger than its draft, which the app does not
ship: name both (``HYBRIDMCP_BENCH_LOCAL_MODEL`` the main GGUF, ``HYBRIDMCP_BENCH_DRAFT_MODEL``
the draft, e.g. Qwen3 4B with Qwen3 0.6B). Without them it reports "not measured" and why.

    .venv/bin/python -m benchmarks.draft_model
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path

from benchmarks.report import emit, median, print_table
from benchmarks.user_models import LOCAL_MODEL, BenchSetupError
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.draft_choice import draft_refusal
from hybridmcp_app.llm.llama_backend import LlamaCppBackend

DRAFT_MODEL = "HYBRIDMCP_BENCH_DRAFT_MODEL"
RUNS = 3
TOKENS = 128
KEPT = re.compile(r"draft model: (\d+) of (\d+) drafted")
REQUEST = InferenceRequest(
    messages=(
        ChatMessage(
            role="user",
            content="Explain in a short paragraph how a refrigerator keeps food cold, then list "
            "three tips for saving energy with it.",
        ),
    ),
    parameters=ModelParameters(temperature=0.0, max_tokens=TOKENS, repeat_penalty=1.0),
)


class DraftCounter(logging.Handler):
    """Adds up the 'draft model: K of N drafted token(s) kept' lines of the answers."""

    def __init__(self) -> None:
        super().__init__()
        self.kept = self.drafted = 0

    def emit(self, record: logging.LogRecord) -> None:
        found = KEPT.match(record.getMessage())
        if found:
            self.kept += int(found.group(1))
            self.drafted += int(found.group(2))


def chosen_files() -> tuple[Path, Path] | str:
    """(main, draft), or why the benchmark cannot run (one line)."""
    main, draft = os.environ.get(LOCAL_MODEL, "").strip(), os.environ.get(DRAFT_MODEL, "").strip()
    if not main or not draft:
        return (
            f"not measured: set {LOCAL_MODEL} (a main GGUF) and {DRAFT_MODEL} (a smaller one with "
            "the same tokenizer); the embedded models are too small for a draft to pay"
        )
    paths = Path(main).expanduser(), Path(draft).expanduser()
    for variable, path in zip((LOCAL_MODEL, DRAFT_MODEL), paths, strict=True):
        if not path.is_file():
            raise BenchSetupError(f"{variable}: no file at {path}")
    refused = draft_refusal(*paths)
    if refused is not None:
        raise BenchSetupError(f"{DRAFT_MODEL}: {refused}")
    return paths


async def measure(main: Path, draft: Path) -> dict[str, float]:
    settings = InferenceSettings(n_ctx=2048, prompt_lookup=False)
    plain = await LlamaCppBackend.open(main, settings)
    drafting = await LlamaCppBackend.open(main, settings.model_copy(update={"draft_model": draft}))
    counter = DraftCounter()
    logger = logging.getLogger("hybridmcp.llm.llama")
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    speeds: tuple[list[float], list[float]] = ([], [])
    answers: set[str] = set()
    try:
        await plain.complete(REQUEST)  # warm-up, not counted
        await drafting.complete(REQUEST)
        counter.kept = counter.drafted = 0
        for _ in range(RUNS):
            for side, backend in enumerate((plain, drafting)):
                response = await backend.complete(REQUEST)
                speeds[side].append(response.timings.decode_tokens_per_s or 0.0)
                answers.add(response.text)
    finally:
        logger.removeHandler(counter)
        await plain.close()
        await drafting.close()
    plain_tps, drafted_tps = median(speeds[0]), median(speeds[1])
    print_table(
        f"Decode speed, {main.name} alone vs drafted by {draft.name} ({RUNS} runs, medians)",
        [["plain", f"{plain_tps:.1f}"], ["draft model", f"{drafted_tps:.1f}"]],
        ["decoding", "tokens/s"],
    )
    return {
        "draft_model_speedup": drafted_tps / plain_tps if plain_tps else 0.0,
        "draft_same_output": float(len(answers) == 1),
        "draft_acceptance": counter.kept / counter.drafted if counter.drafted else 0.0,
    }


def main() -> None:
    chosen = chosen_files()
    if isinstance(chosen, str):
        print(chosen)
        emit("draft_model", {}, chosen)
        return
    metrics = asyncio.run(measure(*chosen))
    emit(
        "draft_model",
        metrics,
        f"decode tokens/s of {chosen[0].name} drafted by {chosen[1].name} vs alone, temperature "
        f"0, {TOKENS} tokens, medians of {RUNS} alternated runs; same output: "
        f"{bool(metrics['draft_same_output'])}",
    )


if __name__ == "__main__":
    main()
