"""Decode speed and time to first token: LlamaCppBackend versus raw ``llama_cpp.Llama``.

Both load the embedded Gemma 3 270M with the same settings (the backend's defaults: generation
threads = cores - 1, prompt threads = cores) in this process, get the same greedy prompts and
generate the same number of tokens. Runs alternate A/B; medians. Each run's prompt starts
differently so neither side can reuse a cached prompt. The backend is timed from the consumer's
side of its async stream (thread hop, queue and events included); raw is ``Llama.generate``
plus detokenisation, the least a caller can do.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from benchmarks.report import emit, median, print_table
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, StreamCompleted, TextDelta
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.llm.llama_backend import LlamaCppBackend, resolved_threads

RUNS = 5
TOKENS = 128
SETTINGS = InferenceSettings(n_ctx=1024)
STORY = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


def prompt_for(run: int) -> str:
    return f"Story number {run + 1}. {STORY}"


async def app_run(backend: LlamaCppBackend, run: int) -> tuple[float, float, int]:
    request = InferenceRequest(
        messages=(ChatMessage(role="user", content=prompt_for(run)),),
        raw_prompt=True,
        parameters=ModelParameters(temperature=0.0, max_tokens=TOKENS, repeat_penalty=1.0),
    )
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async for event in backend.stream(request):
        if isinstance(event, TextDelta) and not first:
            first = time.perf_counter()
        elif isinstance(event, StreamCompleted):
            last = time.perf_counter()
            tokens = event.response.usage.completion_tokens
    return first - started, (tokens - 1) / (last - first), tokens


def raw_run(llama: object, run: int) -> tuple[float, float, int]:
    from llama_cpp import Llama

    assert isinstance(llama, Llama)
    started = time.perf_counter()
    tokens = llama.tokenize(prompt_for(run).encode(), add_bos=True, special=True)
    first = 0.0
    generated: list[int] = []
    for token in llama.generate(tokens, temp=0.0, repeat_penalty=1.0):
        if not first:
            first = time.perf_counter()
        generated.append(token)
        llama.detokenize([token], prev_tokens=tokens + generated[:-1])
        if len(generated) >= TOKENS:
            break
    last = time.perf_counter()
    return first - started, (len(generated) - 1) / (last - first), len(generated)


def main() -> None:
    from llama_cpp import Llama

    path = embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    threads, batch_threads = resolved_threads(SETTINGS)
    backend = asyncio.run(LlamaCppBackend.open(path, SETTINGS))
    raw = Llama(
        model_path=str(path),
        n_ctx=SETTINGS.n_ctx,
        n_threads=threads,
        n_threads_batch=batch_threads,
        n_batch=SETTINGS.n_batch,
        verbose=False,
    )
    asyncio.run(app_run(backend, -1))  # warm-up, not counted
    raw_run(raw, -1)
    app: list[tuple[float, float, int]] = []
    direct: list[tuple[float, float, int]] = []
    for run in range(RUNS):
        app.append(asyncio.run(app_run(backend, run)))
        direct.append(raw_run(raw, run))
    backend.close_now()
    raw.close()
    tps_app, tps_raw = median([r[1] for r in app]), median([r[1] for r in direct])
    ttft_app, ttft_raw = median([r[0] for r in app]), median([r[0] for r in direct])
    print_table(
        f"Gemma 3 270M Q4_K_M, {TOKENS} greedy tokens, {threads} generation thread(s), "
        f"{RUNS} alternating runs each",
        [
            ["LlamaCppBackend", f"{tps_app:.1f}", f"{ttft_app * 1000:.0f}", app[0][2]],
            ["raw Llama.generate", f"{tps_raw:.1f}", f"{ttft_raw * 1000:.0f}", direct[0][2]],
        ],
        ["what", "decode tok/s (median)", "TTFT ms (median)", "tokens"],
    )
    ratio = tps_app / tps_raw
    verdict = "met" if ratio >= 0.97 else "NOT met"
    print(f"decode ratio app/raw = {ratio:.3f} (target >= 0.97: {verdict})")
    emit(
        "local_llm",
        {
            "decode_tps_app": tps_app,
            "decode_tps_raw": tps_raw,
            "decode_ratio": ratio,
            "ttft_s_app": ttft_app,
            "ttft_s_raw": ttft_raw,
        },
        f"embedded Gemma 3 270M, {TOKENS} greedy tokens, medians of {RUNS} alternating runs; "
        "app timed at the async consumer, raw = Llama.generate + detokenize",
    )


if __name__ == "__main__":
    main()
