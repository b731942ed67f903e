"""How well each turtle-soup host judges the bank's labelled questions.

Every puzzle of the bank contributes labelled questions, and each goes to four hosts in turn
(the order rotates question by question):
- local: the embedded model in this process, held to a GBNF grammar of the four words;
- provider: llama.cpp's OpenAI-compatible server with the same GGUF, held to a JSON schema
  (started by ``benchmarks.game_provider_server``, so it reads the host's rules and story);
- hybrid: local when its first token is at least THRESHOLD likely, else the provider;
- embedding: the MiniLM baseline (no language model).
Per host: accuracy against the label, a confusion matrix (label → answer), the share of
well-formed answers (one of the four words; a malformed one counts as wrong), and median
milliseconds per answer; for hybrid, the share escalated to the provider. The embedded model is
a 270M base model: its numbers are honest, not good; the grammar, the measurement and the
escalation are ready for a stronger model.

To finish within the contract's 5 minutes on 2 cores, it asks QUESTIONS_PER_PUZZLE of each
puzzle's questions, every puzzle and every host on the same ones (``benchmarks.game_sample``).
``HYBRIDMCP_GAME_HOST_QUESTIONS=all`` asks all 281 (10 to 20 minutes on 2 cores), and a number
that many of each puzzle. With one question a puzzle, most answers include a model's first
reading of the story (a game's first question); a game's later questions reuse it (llama.cpp's
prompt-prefix cache) and are faster, so the full set's ms/answer is lower. The table also gives
each host's CPU seconds (this process and the provider server), steadier than wall time on a
shared machine, and where the run's time went. A user's own provider and local GGUF replace both
sides: see ``benchmarks/user_models.py``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil
from pydantic import SecretStr

from benchmarks.game_provider_server import CHAT_FORMAT
from benchmarks.game_sample import QUESTIONS_PER_PUZZLE, Sample, questions_per_puzzle, sample
from benchmarks.report import emit, median, print_table
from benchmarks.user_models import BenchProvider, bench_provider, local_model_file
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.core.llm_configs import ProviderConfig
from hybridmcp_app.core.model_context import InferenceSettings
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.game.embedding_host import EmbeddingHost
from hybridmcp_app.game.fact_matcher import FactMatcher
from hybridmcp_app.game.game_models import PuzzleHost
from hybridmcp_app.game.llm_host import HostError, HybridHost, LlmHost
from hybridmcp_app.game.puzzle_bank import PuzzleBank
from hybridmcp_app.game.puzzle_models import ANSWERS
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.llm.llama_backend import LlamaCppBackend
from hybridmcp_app.llm.openai_backend import OpenAICompatBackend

THRESHOLD = 0.6
# Two models share the machine: one thread each. With two each on 2 busy cores, llama.cpp's
# threads wait on one another and the provider took 4 times the CPU time per answer.
THREADS = 1
NAMES = ("local", "provider", "hybrid", "embedding")


class Tally:
    """One host's answers."""

    def __init__(self) -> None:
        self.confusion: Counter[tuple[str, str]] = Counter()
        self.milliseconds: list[float] = []
        self.cpu_s = 0.0  # this process's and the provider server's, together
        self.malformed = 0
        self.escalated = 0

    @property
    def total(self) -> int:
        return sum(self.confusion.values())

    def accuracy(self) -> float:
        right = sum(n for (label, said), n in self.confusion.items() if label == said)
        return right / self.total if self.total else 0.0


def cpu_seconds(*processes: psutil.Process) -> float:
    """CPU time (user and system) that ``processes`` have used so far."""
    return sum(sum(process.cpu_times()[:2]) for process in processes)


async def evaluate(
    model: Path, served: BenchProvider, chosen: Sample, parts: dict[str, float]
) -> dict[str, Tally]:
    """Ask every host every chosen question; ``parts`` gets the seconds each step took."""
    server = () if served.pid is None else (psutil.Process(served.pid),)
    processes = (psutil.Process(), *server)
    started = time.perf_counter()
    local_backend = await LlamaCppBackend.open(
        model, InferenceSettings(n_ctx=2048, n_threads=THREADS, n_threads_batch=THREADS)
    )
    parts["local model load"] = time.perf_counter() - started
    started = time.perf_counter()
    matcher = FactMatcher(OnnxEmbedder())
    await matcher.embedder.embed(["warm-up"])  # loads MiniLM outside the hosts' timings
    parts["embedder load"] = time.perf_counter() - started
    settings = {"name": "provider", "base_url": served.base_url, "default_model": served.model}
    config = ProviderConfig.model_validate({**settings, "timeout_s": 120})
    tallies = {name: Tally() for name in NAMES}
    async with OpenAICompatBackend(config, SecretStr(served.key)) as provider_backend:
        local = LlmHost("local", local_backend, matcher, "grammar")
        provider = LlmHost("provider", provider_backend, matcher, "json_schema", model=served.model)
        hosts: dict[str, PuzzleHost] = {
            "local": local, "provider": provider,
            "hybrid": HybridHost(local, provider, THRESHOLD), "embedding": EmbeddingHost(matcher),
        }  # fmt: skip
        for asked, (puzzle, labelled) in enumerate(chosen):
            turn = asked % len(NAMES)
            for name in NAMES[turn:] + NAMES[:turn]:
                tally = tallies[name]
                started, cpu_started = time.perf_counter(), cpu_seconds(*processes)
                said: str
                try:
                    judged = await hosts[name].answer(puzzle, labelled.question)
                    said = judged.answer
                    tally.escalated += judged.escalated
                except HostError:
                    said, tally.malformed = "malformed", tally.malformed + 1
                tally.milliseconds.append((time.perf_counter() - started) * 1000)
                tally.cpu_s += cpu_seconds(*processes) - cpu_started
                tally.confusion[(labelled.answer, said)] += 1
    await local_backend.close()
    for name, tally in tallies.items():
        parts[f"{name} answers"] = sum(tally.milliseconds) / 1000
    parts["cpu (this process and the server)"] = cpu_seconds(*processes)
    return tallies


def main() -> None:
    per_puzzle = questions_per_puzzle()
    bank = PuzzleBank(resources_dir() / "puzzles", Path(tempfile.gettempdir()) / "no-custom")
    chosen = sample(bank.all(), per_puzzle)
    model = local_model_file(
        embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    )
    parts: dict[str, float] = {}
    started = time.perf_counter()
    launcher = "benchmarks.game_provider_server"
    with bench_provider(model, threads=THREADS, batch_threads=THREADS, n_ctx=2048,
                        module=launcher, chat_format=CHAT_FORMAT) as served:  # fmt: skip
        parts["provider server start"] = time.perf_counter() - started
        tallies = asyncio.run(evaluate(model, served, chosen, parts))
    took = time.perf_counter() - started
    metrics: dict[str, float] = {}
    rows = []
    for name, tally in tallies.items():
        well_formed = 1 - tally.malformed / tally.total
        metrics |= {f"{name}_accuracy": round(tally.accuracy(), 3),
                    f"{name}_well_formed": round(well_formed, 3),
                    f"{name}_ms_per_answer": round(median(tally.milliseconds), 1)}  # fmt: skip
        rows.append([name, f"{tally.accuracy():.3f}", f"{well_formed:.3f}",
                     f"{median(tally.milliseconds):.1f}", f"{tally.cpu_s:.1f}",
                     tally.total])  # fmt: skip
    hybrid = tallies["hybrid"]
    metrics["hybrid_escalated_share"] = round(hybrid.escalated / hybrid.total, 3)
    metrics |= {"questions": hybrid.total, "puzzles": len(bank), "wall_s": round(took, 1),
                "cpu_s": round(parts["cpu (this process and the server)"], 1)}  # fmt: skip
    print_table(f"hosts over {hybrid.total} labelled questions of {len(bank)} puzzles", rows,
                ["host", "accuracy", "well-formed", "ms/answer", "cpu s", "answers"])  # fmt: skip
    said_columns = [*ANSWERS, "malformed"]
    for name, tally in tallies.items():
        matrix = [[label, *(tally.confusion[(label, said)] for said in said_columns)]
                  for label in ANSWERS]  # fmt: skip
        print_table(f"{name}: label (rows) → answer (columns)", matrix, ["label", *said_columns])
    print_table("where the time went", [[part, f"{s:.1f}"] for part, s in parts.items()],
                ["part", "seconds"])  # fmt: skip
    print(f"hybrid escalated {metrics['hybrid_escalated_share']:.1%}; {took:.0f} s in all")
    asked = (
        "all of each puzzle"
        if per_puzzle is None
        else f"{per_puzzle} of each puzzle, positions rotating from puzzle to puzzle (default "
        f"{QUESTIONS_PER_PUZZLE}; HYBRIDMCP_GAME_HOST_QUESTIONS=all asks all)"
    )
    emit("game_host", metrics,
         f"{hybrid.total} labelled questions ({asked}) of {len(bank)} puzzles; local = "
         f"{model.name} with a GBNF grammar, provider = "
         + ("llama.cpp server (same GGUF, system text in the first user turn)"
            if not served.user_supplied else served.describe())
         + f" with a JSON schema, hybrid = local if first-token p >= {THRESHOLD} "
         "else provider, embedding = MiniLM baseline; one thread per model; hosts rotate per "
         "question; malformed answers count as wrong")  # fmt: skip


if __name__ == "__main__":
    main()
