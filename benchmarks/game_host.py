"""How well each turtle-soup host judges the bank's labelled questions.

Every labelled question of every shipped puzzle goes to four hosts, in turn (the order rotates
question by question):
- local: the embedded model in this process, held to a GBNF grammar of the four words;
- provider: llama.cpp's OpenAI-compatible server with the same GGUF, held to a JSON schema;
- hybrid: local when its first token is at least THRESHOLD likely, else the provider;
- embedding: the MiniLM baseline (no language model).
Per host: accuracy against the label, a confusion matrix (label → answer), the share of
well-formed answers (one of the four words; a malformed one counts as wrong), and median
milliseconds per answer; for hybrid, the share escalated to the provider. The embedded model is
a 270M base model: its numbers are honest, not good; the grammar, the measurement and the
escalation are ready for a stronger model.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

from benchmarks.report import emit, median, print_table
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
from tests.helpers.llama_server import llama_server

THRESHOLD = 0.6
NAMES = ("local", "provider", "hybrid", "embedding")


class Tally:
    """One host's answers."""

    def __init__(self) -> None:
        self.confusion: Counter[tuple[str, str]] = Counter()
        self.milliseconds: list[float] = []
        self.malformed = 0
        self.escalated = 0

    @property
    def total(self) -> int:
        return sum(self.confusion.values())

    def accuracy(self) -> float:
        right = sum(n for (label, said), n in self.confusion.items() if label == said)
        return right / self.total if self.total else 0.0


async def evaluate(model: Path, base_url: str, key: str) -> tuple[dict[str, Tally], int]:
    bank = PuzzleBank(resources_dir() / "puzzles", Path(tempfile.gettempdir()) / "no-custom")
    local_backend = await LlamaCppBackend.open(model, InferenceSettings(n_ctx=2048))
    matcher = FactMatcher(OnnxEmbedder())
    settings = {"name": "provider", "base_url": base_url, "default_model": "gemma"}
    config = ProviderConfig.model_validate({**settings, "timeout_s": 120})
    tallies = {name: Tally() for name in NAMES}
    asked = 0
    async with OpenAICompatBackend(config, SecretStr(key)) as provider_backend:
        local = LlmHost("local", local_backend, matcher, "grammar")
        provider = LlmHost("provider", provider_backend, matcher, "json_schema", model="gemma")
        hosts: dict[str, PuzzleHost] = {
            "local": local, "provider": provider,
            "hybrid": HybridHost(local, provider, THRESHOLD), "embedding": EmbeddingHost(matcher),
        }  # fmt: skip
        for puzzle in bank.all():
            for labelled in puzzle.questions:
                turn = asked % len(NAMES)
                for name in NAMES[turn:] + NAMES[:turn]:
                    tally = tallies[name]
                    started = time.perf_counter()
                    said: str
                    try:
                        judged = await hosts[name].answer(puzzle, labelled.question)
                        said = judged.answer
                        tally.escalated += judged.escalated
                    except HostError:
                        said, tally.malformed = "malformed", tally.malformed + 1
                    tally.milliseconds.append((time.perf_counter() - started) * 1000)
                    tally.confusion[(labelled.answer, said)] += 1
                asked += 1
    await local_backend.close()
    return tallies, len(bank)


def main() -> None:
    model = embedded_model_path(Path(tempfile.gettempdir()) / "hybridmcp-bench-cache")
    started = time.perf_counter()
    with llama_server(model, api_key="bench", threads=2, batch_threads=2, n_ctx=2048) as server:
        tallies, puzzles = asyncio.run(evaluate(model, server.base_url, server.api_key))
    took = time.perf_counter() - started
    metrics: dict[str, float] = {}
    rows = []
    for name, tally in tallies.items():
        well_formed = 1 - tally.malformed / tally.total
        metrics |= {f"{name}_accuracy": round(tally.accuracy(), 3),
                    f"{name}_well_formed": round(well_formed, 3),
                    f"{name}_ms_per_answer": round(median(tally.milliseconds), 1)}  # fmt: skip
        rows.append([name, f"{tally.accuracy():.3f}", f"{well_formed:.3f}",
                     f"{median(tally.milliseconds):.1f}", tally.total])  # fmt: skip
    hybrid = tallies["hybrid"]
    metrics["hybrid_escalated_share"] = round(hybrid.escalated / hybrid.total, 3)
    metrics["questions"] = hybrid.total
    print_table(f"hosts over {hybrid.total} labelled questions of {puzzles} puzzles", rows,
                ["host", "accuracy", "well-formed", "ms/answer", "answers"])  # fmt: skip
    said_columns = [*ANSWERS, "malformed"]
    for name, tally in tallies.items():
        matrix = [[label, *(tally.confusion[(label, said)] for said in said_columns)]
                  for label in ANSWERS]  # fmt: skip
        print_table(f"{name}: label (rows) → answer (columns)", matrix, ["label", *said_columns])
    print(f"hybrid escalated {metrics['hybrid_escalated_share']:.1%}; {took:.0f} s in all")
    emit("game_host", metrics,
         f"{hybrid.total} labelled questions of {puzzles} puzzles; local = embedded GGUF with a "
         f"GBNF grammar, provider = llama.cpp server (same GGUF) with a JSON schema, hybrid = "
         f"local if first-token p >= {THRESHOLD} else provider, embedding = MiniLM baseline; "
         "hosts rotate per question; malformed answers count as wrong")  # fmt: skip


if __name__ == "__main__":
    main()
