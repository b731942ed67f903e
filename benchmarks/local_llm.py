"""Decode speed and time to first token: LlamaCppBackend versus raw ``llama_cpp.Llama``; prompt-
lookup drafting versus plain decoding; the KV cache's memory, q8_0 versus f16.

Both load the embedded Gemma 3 270M with the same settings (the backend's defaults: generation
threads = cores - 1, prompt threads = cores) in this process, get the same greedy prompts and
generate the same number of tokens. Runs alternate A/B; medians. Each run's prompt starts
differently so neither side can reuse a cached prompt. The backend is timed from the consumer's
side of its async stream (thread hop, queue and events included); raw is ``Llama.generate``
plus detokenisation, the least a caller can do.

``speculative_speedup``: decode tokens/s of the app's backend with prompt-lookup drafting over
the same backend without it, rewriting a 400-word text with one small change (greedy, medians
of alternating runs; Gemma 3 270M as a raw prompt, SmolLM2 135M Instruct through its chat
template). ``speculative_same_output`` is 1.0 when every drafted answer equals the plain one.
``kv_q8_vs_f16_memory_ratio``: the KV buffers llama.cpp reports (its log) at 8,192 tokens of
context, q8_0 (with flash attention, which it needs) over f16.

``native_decode_ratio``: the app backend's decode tokens/s over llama.cpp's own ``llama-bench``
(built once from the llama.cpp vendored in the installed llama-cpp-python and cached:
``benchmarks.native_llama_bench``), same GGUF (Gemma 3 270M, or ``HYBRIDMCP_BENCH_LOCAL_MODEL``;
``_smollm2`` for SmolLM2 135M Instruct), threads and flash attention, ``TOKENS`` tokens; the
median of back-to-back pairs' ratios. llama-bench decodes only (no prompt); the app's rate
leaves out its first token (the prompt's). Without a build the key is reported as not measured.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from pathlib import Path

from benchmarks.native_llama_bench import (
    NativeBenchUnavailable,
    llama_bench_binary,
    run_llama_bench,
)
from benchmarks.report import emit, median, print_table
from benchmarks.user_models import LOCAL_MODEL, local_model_file
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest, StreamCompleted, TextDelta
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.llm.embedded_models import smollm2_path
from hybridmcp_app.llm.llama_backend import KV_CACHE_TYPES, LlamaCppBackend, resolved_threads

RUNS = 5
NATIVE_RUNS = 7
TOKENS = 128
SETTINGS = InferenceSettings(n_ctx=1024)
STORY = "Once upon a time, in a small village by the sea, there lived an old fisherman who"
EDIT_RUNS = 3
EDIT_TOKENS = 200
KV_CONTEXT = 8192
TEXT = (
    "The old fisherman lived at the edge of the village, in a small house with a blue door. "
    "Every morning he walked down to the harbour before the sun rose, carrying a basket of bread "
    "and a flask of tea. The other fishermen greeted him with a nod, and he nodded back, because "
    "words were not needed between men who had shared the same sea for forty years. His boat was "
    "painted white and green, and its name, written in careful letters on the bow, was the "
    "Morning Star. He had built it himself with his father when he was a boy, and he had "
    "repaired it every spring since then. The village children liked to sit on the harbour wall "
    "and watch him prepare his nets. He would tell them stories about storms and whales and the "
    "strange lights that sometimes danced on the water at night. Some of the children believed "
    "every word, and some of them laughed, but all of them came back the next day to hear more. "
    "In the evening he returned with his catch, sold most of it at the market in the square, "
    "and kept two fish for his supper. He cooked them over a small fire behind his house and "
    "ate them slowly while the sky turned orange and then purple. When the stars came out he "
    "went to bed, and he slept well, because he had done an honest day of work. One winter a "
    "great storm came to the village. The wind tore the roofs from the houses and the waves "
    "broke over the harbour wall. The fishermen pulled their boats high onto the beach and "
    "waited for the storm to pass. For three days nobody went to sea, and the families sat "
    "together by their fires, listening to the wind and hoping that the harbour would still be "
    "there when it was over. On the fourth day the sky cleared, and the old fisherman walked "
    "down to the harbour to see what was left. His boat was still there, battered but whole, "
    "and he smiled, because the Morning Star had survived another storm, just as he had. He "
    "spent the rest of the winter mending the hull, and when spring came he painted it white "
    "and green again, and went back to sea. The children were waiting for him on the harbour "
    "wall that first morning, and he promised them a new story when he came home."
)


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


def edit_request(chat: bool) -> InferenceRequest:
    """Rewrite ``TEXT`` with one small change: most of the answer is copied from the prompt."""
    if chat:
        text = f"Rewrite this text, changing 'village' to 'town':\n\n{TEXT}"
    else:
        text = f"Original text:\n{TEXT}\n\nThe same text with 'village' changed to 'town':\n"
    return InferenceRequest(
        messages=(ChatMessage(role="user", content=text),),
        raw_prompt=not chat,
        parameters=ModelParameters(temperature=0.0, max_tokens=EDIT_TOKENS, repeat_penalty=1.0),
    )


async def edit_runs(path: Path, chat: bool) -> tuple[float, float, bool, int]:
    """Median decode tok/s without and with drafting, whether the answers matched, tokens."""
    settings = InferenceSettings(n_ctx=2048)
    plain = await LlamaCppBackend.open(path, settings.model_copy(update={"prompt_lookup": False}))
    drafted = await LlamaCppBackend.open(path, settings.model_copy(update={"prompt_lookup": True}))
    request = edit_request(chat)
    speeds: tuple[list[float], list[float]] = ([], [])
    answers: set[str] = set()
    tokens = 0
    try:
        await plain.complete(request)  # warm-up, not counted
        await drafted.complete(request)
        for _ in range(EDIT_RUNS):
            for side, backend in enumerate((plain, drafted)):
                response = await backend.complete(request)
                speeds[side].append(response.timings.decode_tokens_per_s or 0.0)
                answers.add(response.text)
                tokens = response.usage.completion_tokens
    finally:
        await plain.close()
        await drafted.close()
    return median(speeds[0]), median(speeds[1]), len(answers) == 1, tokens


def kv_buffer_mib(path: Path, cache_type: str) -> float:
    """The KV buffers llama.cpp reports for ``cache_type`` at ``KV_CONTEXT`` (MiB, summed:
    Gemma 3 has a global and a sliding-window cache)."""
    import ctypes

    import llama_cpp
    import llama_cpp._logger
    from llama_cpp import Llama

    lines: list[str] = []

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def collect(_level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        lines.append(text.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    try:
        llama = Llama(
            model_path=str(path),
            n_ctx=KV_CONTEXT,
            flash_attn=cache_type != "f16",
            type_k=KV_CACHE_TYPES[cache_type],
            type_v=KV_CACHE_TYPES[cache_type],
            verbose=False,
        )
        llama.close()
    finally:
        llama_cpp.llama_log_set(llama_cpp._logger.llama_log_callback, ctypes.c_void_p(0))
    sizes = [
        float(found.group(1))
        for line in lines
        if (found := re.search(r"KV buffer size =\s*([0-9.]+) MiB", line))
    ]
    if not sizes:
        raise RuntimeError("llama.cpp did not report its KV buffer size")
    return sum(sizes)


def speculative_and_kv(cache: Path) -> tuple[dict[str, float], str]:
    gemma, smollm2 = embedded_model_path(cache), smollm2_path(cache)
    rows: list[list[object]] = []
    metrics: dict[str, float] = {}
    same_everywhere = True
    for key, path, chat in (("", gemma, False), ("_smollm2", smollm2, True)):
        off, on, same, tokens = asyncio.run(edit_runs(path, chat))
        same_everywhere &= same
        metrics[f"speculative_speedup{key}"] = on / off
        metrics[f"decode_tps_lookup{key}"] = on
        metrics[f"decode_tps_no_lookup{key}"] = off
        rows.append([path.name, f"{off:.1f}", f"{on:.1f}", f"{on / off:.2f}", same, tokens])
    metrics["speculative_same_output"] = 1.0 if same_everywhere else 0.0
    print_table(
        f"Edit-style prompt (rewrite {len(TEXT.split())} words), greedy, "
        f"medians of {EDIT_RUNS} alternating runs",
        rows,
        ["model", "plain tok/s", "prompt lookup tok/s", "speedup", "same output", "tokens"],
    )
    kv = {kind: kv_buffer_mib(gemma, kind) for kind in ("f16", "q8_0", "q4_0")}
    metrics["kv_q8_vs_f16_memory_ratio"] = kv["q8_0"] / kv["f16"]
    metrics["kv_q4_vs_f16_memory_ratio"] = kv["q4_0"] / kv["f16"]
    print_table(
        f"KV cache at {KV_CONTEXT:,} tokens (Gemma 3 270M, llama.cpp's reported buffers)",
        [[kind, f"{mib:.2f}", f"{mib / kv['f16']:.3f}"] for kind, mib in kv.items()],
        ["type", "MiB", "vs f16"],
    )
    speedup = metrics["speculative_speedup"]
    print(
        f"speculative_speedup = {speedup:.2f} (target >= 1.5: "
        f"{'met' if speedup >= 1.5 else 'NOT met'}); same output: {same_everywhere}; "
        f"kv q8_0/f16 = {metrics['kv_q8_vs_f16_memory_ratio']:.3f} (target <= 0.55)"
    )
    notes = (
        f"; speculative_speedup: Gemma 3 270M rewriting {len(TEXT.split())} words "
        f"({EDIT_TOKENS} greedy tokens, app backend with vs without prompt lookup, medians of "
        f"{EDIT_RUNS}), _smollm2 the same through its chat template; kv ratio from llama.cpp's "
        f"reported KV buffers at {KV_CONTEXT} tokens"
    )
    return metrics, notes


def native_decode(cache: Path) -> tuple[dict[str, float], str]:
    """The app's decode tokens/s over llama-bench's, alternating runs on each model."""
    try:
        binary = llama_bench_binary()
    except NativeBenchUnavailable as error:
        print(f"native_decode_ratio not measured: {error}")
        return {}, f"; native_decode_ratio not measured: {error}"
    models = {"": local_model_file(embedded_model_path(cache))}
    if not os.environ.get(LOCAL_MODEL, "").strip():
        models["_smollm2"] = smollm2_path(cache)
    threads, _ = resolved_threads(SETTINGS)
    metrics: dict[str, float] = {}
    rows: list[list[object]] = []
    for key, path in models.items():
        backend = asyncio.run(LlamaCppBackend.open(path, SETTINGS))
        app: list[float] = []
        native: list[float] = []
        tokens = 0
        try:
            asyncio.run(app_run(backend, -1))  # warm-up, not counted (llama-bench warms itself)
            for run in range(NATIVE_RUNS):
                for side in (0, 1) if run % 2 == 0 else (1, 0):  # each goes first in turn
                    if side == 0:
                        _, tps, tokens = asyncio.run(app_run(backend, run))
                        app.append(tps)
                    else:
                        native.append(
                            run_llama_bench(
                                binary, path, threads=threads, n_gen=TOKENS, repetitions=1,
                                flash_attn=SETTINGS.flash_attention,
                            ).tokens_per_s
                        )  # fmt: skip
        except NativeBenchUnavailable as error:
            print(f"native_decode_ratio{key} not measured: {error}")
            return metrics, f"; native_decode_ratio{key} not measured: {error}"
        finally:
            backend.close_now()
        tps_app, tps_native = median(app), median(native)
        # Each pair ran back to back: the median of their ratios leaves out a load that
        # changed between pairs (these machines are shared).
        pairs = [a / n for a, n in zip(app, native, strict=True)]
        ratio = median(pairs)
        print(f"{path.name}: app/llama-bench per pair " + " ".join(f"{r:.2f}" for r in pairs))
        metrics[f"native_decode_ratio{key}"] = ratio
        metrics[f"native_decode_tps_llama_bench{key}"] = tps_native
        metrics[f"native_decode_tps_app{key}"] = tps_app
        rows.append(
            [
                path.name,
                f"{tps_app:.1f}",
                tokens,
                f"{tps_native:.1f}",
                f"{ratio:.3f}",
            ]
        )
    print_table(
        f"Decode only, {TOKENS} tokens, {threads} thread(s), medians of {NATIVE_RUNS} "
        f"back-to-back pairs; llama-bench at {binary}",
        rows,
        ["model", "LlamaCppBackend tok/s", "app tokens", "llama-bench tok/s", "ratio (pairs)"],
    )
    ratio = metrics["native_decode_ratio"]
    verdict = "met" if ratio >= 0.9 else "NOT met"
    print(f"native_decode_ratio = {ratio:.3f} (target >= 0.90: {verdict})")
    return metrics, (
        f"; native_decode_ratio: app backend vs llama-bench -p 0 -n {TOKENS} -t {threads} "
        f"(built from the vendored llama.cpp), median of {NATIVE_RUNS} back-to-back pairs' ratios"
    )


def main() -> None:
    from llama_cpp import Llama

    cache = Path(tempfile.gettempdir()) / "hybridmcp-bench-cache"
    path = embedded_model_path(cache)
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
    second, notes = speculative_and_kv(cache)
    native, native_notes = native_decode(cache)
    emit(
        "local_llm",
        {
            "decode_tps_app": tps_app,
            "decode_tps_raw": tps_raw,
            "decode_ratio": ratio,
            "ttft_s_app": ttft_app,
            "ttft_s_raw": ttft_raw,
            **second,
            **native,
        },
        f"embedded Gemma 3 270M, {TOKENS} greedy tokens, medians of {RUNS} alternating runs; "
        "app timed at the async consumer, raw = Llama.generate + detokenize" + notes + native_notes,
    )


if __name__ == "__main__":
    main()
