"""Parallel's wall time versus the slower of its two legs run alone.

The local model (in this process) and the provider (llama.cpp's server, another process) get one
generation thread each, the same greedy prompt and the same token count. Runs alternate local
alone, provider alone, both in parallel; medians of 5. Target: parallel ≤ 1.10 × max(alone).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from benchmarks.report import emit, median, print_table
from hybridmcp_app.core.inference import ChatMessage, InferenceRequest
from hybridmcp_app.core.llm_configs import ProviderConfig, WrapperConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.core.parameters import ModelParameters
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend
from hybridmcp_app.orchestration.orchestrator import LLMOrchestrator
from hybridmcp_app.orchestration.strategies import available_strategies
from tests.helpers.llama_server import llama_server

RUNS = 5
REQUEST = InferenceRequest(
    messages=(ChatMessage(role="user", content="Write a short story about a lighthouse keeper."),),
    parameters=ModelParameters(temperature=0.0, max_tokens=96, repeat_penalty=1.0),
)


async def timed(orchestrator: LLMOrchestrator, strategy: str) -> float:
    started = time.perf_counter()
    async for _ in orchestrator.run(available_strategies()[strategy], REQUEST):
        pass
    return time.perf_counter() - started


async def measure(model: Path, base_url: str, key: str) -> dict[str, list[float]]:
    local = await LlamaCppBackend.open(
        model, InferenceSettings(n_ctx=1024, n_threads=1, n_threads_batch=1)
    )
    config = ProviderConfig.model_validate(
        {"name": "llama.cpp server", "base_url": base_url, "default_model": "gemma"}
    )
    times: dict[str, list[float]] = {"local": [], "provider": [], "parallel": []}
    async with OpenAICompatBackend(config, SecretStr(key)) as provider:
        orchestrator = LLMOrchestrator(local, provider, WrapperConfig())
        for name in times:  # warm-up, not counted
            await timed(orchestrator, name)
        for _ in range(RUNS):
            for name in times:
                times[name].append(await timed(orchestrator, name))
    await local.close()
    return times


def main() -> None:
    model = embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    with llama_server(model, api_key="bench") as server:
        times = asyncio.run(measure(model, server.base_url, server.api_key))
    medians = {name: median(values) for name, values in times.items()}
    slower = max(medians["local"], medians["provider"])
    ratio = medians["parallel"] / slower
    print_table(
        f"Wall time, {REQUEST.parameters.max_tokens} greedy tokens, 1 thread each, "
        f"medians of {RUNS} alternating runs",
        [[name, f"{value:.2f}"] for name, value in medians.items()],
        ["run", "wall s"],
    )
    verdict = "met" if ratio <= 1.10 else "NOT met"
    print(f"parallel / max(alone) = {ratio:.3f} (target <= 1.10: {verdict})")
    emit(
        "parallel",
        {
            "parallel_wall_s": medians["parallel"],
            "max_single_wall_s": slower,
            "parallel_wall_ratio": ratio,
            "local_wall_s": medians["local"],
            "provider_wall_s": medians["provider"],
        },
        "embedded Gemma 3 270M in-process vs the same model behind llama_cpp.server, one "
        "generation thread each, same prompt; Parallel strategy vs each alone",
    )


if __name__ == "__main__":
    main()
