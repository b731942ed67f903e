"""Event-loop gaps in the real chat while two answers stream and a CPU-heavy task runs.

Offscreen, the real window: the embedded model answers in the Local pane while llama.cpp's
server (another process) answers in the Provider pane (strategy "Side by side"), and a
pure-Python CPU task runs in the app's own worker threads (``asyncio.to_thread``) the whole time.
A 10 ms precise QTimer records when it fires; a gap is the time between two firings (10 ms when
nothing stalls the loop). Gaps count from the first streamed text of either pane until both
answers are finished; the whole turn (from Send, with pane creation and the provider's
connection) is reported beside them. The same probe runs with the app idle for as long,
alternating with the streaming rounds (3 each), and once more while a 100,000-character Markdown
answer (code blocks, tables, lists) arrives in frame-sized pieces. The event loop is made as the
app makes it (``create_event_loop``, which also sets the GIL switch interval) and Python's
garbage collector runs as in the app.

Where a gap over 20 ms went is split, from the GUI thread's scheduler statistics (Linux), into
time the thread ran (the app's own code, Qt, garbage collection), time it was runnable but had no
free core, and time it was off a core and not runnable (waiting for the GIL, or for the timer).
The CPU other processes used meanwhile is reported too: on a shared machine it is noise.
Targets: p99 gap <= 20 ms, max <= 50 ms while streaming.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HYBRIDMCP_HOME"] = tempfile.mkdtemp(prefix="hybridmcp-bench-ui-")

from PySide6.QtWidgets import QApplication

from benchmarks.loop_gaps import (
    PROBE_MS,
    STALL_MS,
    CpuShares,
    Gap,
    GapProbe,
    GcPauses,
    attribution,
    burn_cpu,
    gaps_between,
    summary,
)
from benchmarks.report import emit, median, print_table
from hybridmcp_app.app import shut_down, tune_garbage_collection
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.config.settings_store import SettingsStore
from hybridmcp_app.llm.embedded_model import embedded_model_path
from hybridmcp_app.services.app_services import build_services
from hybridmcp_app.ui.chat.qt_answer_pane import QtAnswerPane
from hybridmcp_app.ui.chat.qt_answer_panes import FLUSH_INTERVAL_MS
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.qt_event_loop import create_event_loop
from hybridmcp_app.ui.qt_garbage_collector import QtGarbageCollector
from tests.helpers.llama_server import llama_server
from tests.helpers.memory_keyring import MemoryKeyring

HOME = Path(os.environ["HYBRIDMCP_HOME"])  # removed at the end; the model lives in MODEL_CACHE
ROUNDS = 3
MAX_TOKENS = 300
PROMPT = "Write a long story about a lighthouse keeper and a storm."
LONG_ANSWER_CHARS = 100_000
LONG_ANSWER_PIECE = 1_000  # per 33 ms frame: about 30,000 characters a second
TARGET_P99_MS, TARGET_MAX_MS = 20.0, 50.0
MODEL_CACHE = Path(tempfile.gettempdir()) / "hybridmcp-bench-cache"  # shared with the others
MARKDOWN_BLOCK = (
    "## Step\n\nRead the *input*, then call `parse()` on it; see [the docs](https://example.org)."
    "\n\n```python\ndef parse(text):\n    fields = text.split(',')\n\n    return [f.strip()"
    " for f in fields]\n```\n- first item\n- second item\n\n| name | value |\n|---|---|\n"
    "| a | 1 |\n\n"
)


# ---------------------------------------------------------------------------- the chat


class PaneUpdates:
    """Counts the answer panes' widget updates (``QtAnswerPane.append``): once per frame per
    pane, never once per token."""

    def __init__(self) -> None:
        self.calls = 0
        self.chars = 0
        self.first_at: float | None = None

    def reset(self) -> None:
        self.calls, self.chars, self.first_at = 0, 0, None

    @contextmanager
    def counting(self) -> Iterator[None]:
        original = QtAnswerPane.append

        def append(pane: QtAnswerPane, text: str) -> None:
            if self.first_at is None:
                self.first_at = time.perf_counter()
            self.calls += 1
            self.chars += len(text)
            original(pane, text)

        QtAnswerPane.append = append  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            QtAnswerPane.append = original  # type: ignore[method-assign]


# ---------------------------------------------------------------------------- the app


def write_settings(paths: AppPaths, base_url: str) -> None:
    parameters = {"temperature": 0.8, "max_tokens": MAX_TOKENS, "repeat_penalty": 1.1, "seed": 7}
    provider = {"name": "lab", "base_url": base_url, "default_model": "gemma",
                "api_key_secret": "LAB_KEY"}  # fmt: skip
    SettingsStore(paths).save(
        Settings.model_validate(
            {
                "llm": {"local": {"inference": {"n_ctx": 1024, "parameters": parameters}}},
                "providers": {"items": [provider], "active": "lab"},
            }
        )
    )


@dataclass
class Round:
    """One streaming round: the gaps while text streamed and over the whole turn."""

    streaming: list[Gap]
    turn: list[Gap]
    seconds: float  # first streamed text to both answers finished
    tokens: dict[str, int]
    chars: dict[str, int]
    updates: int
    updated_chars: int
    gc_pauses_ms: list[float]  # while text streamed
    turn_gc_pauses_ms: list[float]  # over the whole turn
    cpu_task_rounds_per_s: float
    ours_cores: float
    other_cores: float


async def streaming_round(
    window: MainWindow, probe: GapProbe, updates: PaneUpdates, gc_pauses: GcPauses
) -> Round:
    """Both answers stream while the CPU task runs."""
    view = window.chat_view
    view.new_chat()
    view.select_strategy("parallel")
    view.prompt.setPlainText(PROMPT)
    updates.reset()
    stop = threading.Event()
    cpu = CpuShares()
    burner = asyncio.ensure_future(asyncio.to_thread(burn_cpu, stop))
    probe.start()
    sent = time.perf_counter()
    turn = view.send()
    assert turn is not None
    await turn
    done = time.perf_counter()
    ticks = probe.stop()
    stop.set()
    burned = await burner
    ours_cores, other_cores = cpu.stop()
    panes = window.context.chat.conversation.turns[-1].panes
    problems = [pane.error for pane in panes if pane.error]
    assert not problems, problems
    first = updates.first_at or sent
    return Round(
        streaming=gaps_between(ticks, first, done),
        turn=gaps_between(ticks),
        seconds=done - first,
        tokens={pane.leg: pane.completion_tokens for pane in panes},
        chars={pane.leg: len(pane.text) for pane in panes},
        updates=updates.calls,
        updated_chars=updates.chars,
        gc_pauses_ms=gc_pauses.within(first, done),
        turn_gc_pauses_ms=gc_pauses.within(sent, done),
        cpu_task_rounds_per_s=burned / (done - sent),
        ours_cores=ours_cores,
        other_cores=other_cores,
    )


async def idle_round(
    probe: GapProbe, seconds: float, gc_pauses: GcPauses
) -> tuple[list[Gap], float, list[float]]:
    """The app idle as long: gaps, cores other processes used, garbage collections (ms)."""
    cpu = CpuShares()
    probe.start()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    gaps = gaps_between(probe.stop())
    return gaps, cpu.stop()[1], gc_pauses.within(started, time.perf_counter())


async def long_answer_round(window: MainWindow, probe: GapProbe) -> list[Gap]:
    """A 100k-character Markdown answer arrives a frame at a time into a real answer pane."""
    text = MARKDOWN_BLOCK * (LONG_ANSWER_CHARS // len(MARKDOWN_BLOCK) + 1)
    pane = QtAnswerPane("local", "synthetic", "answer")
    window.chat_view.splitter.addWidget(pane)
    probe.start()
    for start in range(0, len(text), LONG_ANSWER_PIECE):
        pane.append(text[start : start + LONG_ANSWER_PIECE])
        await asyncio.sleep(0.033)
    gaps = gaps_between(probe.stop())
    pane.hide()
    pane.deleteLater()
    return gaps


@dataclass
class Measured:
    first_answer: Round | None = None  # the first after the model loaded: not pooled
    rounds: list[Round] = field(default_factory=list)
    idle: list[Gap] = field(default_factory=list)
    idle_other_cores: list[float] = field(default_factory=list)
    idle_gc_pauses_ms: list[float] = field(default_factory=list)
    long_answer: list[Gap] = field(default_factory=list)

    def pooled(self, pick: Callable[[Round], list[Gap]]) -> list[Gap]:
        return [gap for r in self.rounds for gap in pick(r)]


async def measure(window: MainWindow, probe: GapProbe, gc_pauses: GcPauses) -> Measured:
    context = window.context
    await context.local_model.load(context.settings.llm.local)
    updates = PaneUpdates()
    measured = Measured()
    with updates.counting():
        # Warm-up, reported on its own: the first answer imports the provider's SDK and fills
        # caches, once a session.
        measured.first_answer = await streaming_round(window, probe, updates, gc_pauses)
        for _ in range(ROUNDS):
            measured.rounds.append(await streaming_round(window, probe, updates, gc_pauses))
            gaps, other, pauses = await idle_round(probe, measured.rounds[-1].seconds, gc_pauses)
            measured.idle += gaps
            measured.idle_other_cores.append(other)
            measured.idle_gc_pauses_ms += pauses
        measured.long_answer = await long_answer_round(window, probe)
    return measured


def run_app() -> tuple[Measured, bool]:
    app = QApplication([])
    loop = create_event_loop(app)
    collector = QtGarbageCollector(app)  # as the app runs: collections on the GUI thread
    gc_pauses = GcPauses()
    gc.callbacks.append(gc_pauses)
    paths = AppPaths.from_environment()
    keyring = MemoryKeyring()
    model = embedded_model_path(MODEL_CACHE)
    with llama_server(model, api_key="bench-ui") as server:
        keyring.set_password("HybridMCP", "LAB_KEY", server.api_key)
        write_settings(paths, server.base_url)
        secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
        context = build_services(
            paths, loop, verbose=False, secrets=secrets, model_cache=MODEL_CACHE
        )
        window = MainWindow(context)
        tune_garbage_collection(collector, window)  # as run_gui does
        window.resize(1280, 860)
        window.show()
        probe = GapProbe()
        results = loop.run_until_complete(measure(window, probe, gc_pauses))
        window.close()
        left = shut_down(context, loop)
        if left:
            print(f"still running after shutdown: {left}")
    gc.callbacks.remove(gc_pauses)
    collector.stop()
    return results, probe.schedstat.available


# ---------------------------------------------------------------------------- report


def main() -> None:
    try:
        results, attributed = run_app()
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
    rounds = results.rounds
    streaming = summary(results.pooled(lambda r: r.streaming))
    turn = summary(results.pooled(lambda r: r.turn))
    idle, long_answer = summary(results.idle), summary(results.long_answer)
    phases = (
        ("idle (same length, no CPU task)", idle),
        ("two answers streaming + CPU task", streaming),
        ("  the whole turn, from Send", turn),
        (f"{LONG_ANSWER_CHARS // 1000}k-char Markdown answer", long_answer),
    )
    rows = [
        [name, f"{s['p50']:.1f}", f"{s['p99']:.1f}", f"{s['max']:.1f}", int(s["n"]),
         int(s["stalls"])]
        for name, s in phases
    ]  # fmt: skip
    print_table(
        f"Gaps between {PROBE_MS} ms timer firings, {ROUNDS} rounds pooled (ms)",
        rows,
        ["phase", "p50", "p99", "max", "gaps", f"gaps > {STALL_MS:.0f}"],
    )
    first = results.first_answer
    assert first is not None
    first_turn = summary(first.turn)
    first_gc = max(first.turn_gc_pauses_ms, default=0.0)
    per_round = [summary(r.streaming) for r in rounds]
    rows = [
        [i + 1, f"{r.seconds:.1f}", r.tokens.get("local", 0), r.tokens.get("provider", 0),
         r.chars.get("local", 0), r.chars.get("provider", 0), r.updates,
         f"{s['p99']:.1f}", f"{s['max']:.1f}",
         f"{max(r.gc_pauses_ms, default=0.0):.1f}", f"{r.ours_cores:.2f}",
         f"{r.other_cores:.2f}"]
        for i, (r, s) in enumerate(zip(rounds, per_round, strict=True))
    ]  # fmt: skip
    headers = ["round", "s", "tok local", "tok provider", "chars local", "chars provider",
               "pane updates", "p99", "max", "gc max ms", "cores ours", "cores others"]  # fmt: skip
    print_table("Streaming rounds (gaps in ms; cores: CPU used while streaming)", rows, headers)
    stalls = attribution(results.pooled(lambda r: r.streaming))
    gc_streaming = max((ms for r in rounds for ms in r.gc_pauses_ms), default=0.0)
    if attributed:
        print(
            f"Streaming gaps over {STALL_MS:.0f} ms ({stalls['stall_ms_total']:.0f} ms in all): "
            f"GUI thread running {stalls['stall_gui_cpu_share']:.0%} (at most "
            f"{stalls['stall_gui_cpu_ms_max']:.1f} ms in one gap), runnable but no free core "
            f"{stalls['stall_runqueue_share']:.0%}, off a core and not runnable (the timer's "
            f"own ~{PROBE_MS} ms sleep, the GIL) {stalls['stall_off_cpu_share']:.0%}"
        )
    updates_per_s = median([r.updates / len(r.tokens) / r.seconds for r in rounds])
    tokens_per_s = median([sum(r.tokens.values()) / len(r.tokens) / r.seconds for r in rounds])
    print(
        f"per pane: {tokens_per_s:.1f} tokens/s streamed, {updates_per_s:.1f} widget updates/s "
        f"(at most one per {FLUSH_INTERVAL_MS} ms frame: {1000 / FLUSH_INTERVAL_MS:.0f}/s)"
    )
    idle_gc = max(results.idle_gc_pauses_ms, default=0.0)
    print(
        f"garbage collection on the GUI thread: longest {gc_streaming:.1f} ms while streaming, "
        f"{idle_gc:.1f} ms in the idle rounds, {first_gc:.1f} ms in the first answer"
    )
    print(
        f"first answer after the model loaded (not pooled): p99 {first_turn['p99']:.1f} ms, "
        f"max {first_turn['max']:.1f} ms from Send to both finished"
    )
    met = streaming["p99"] <= TARGET_P99_MS and streaming["max"] <= TARGET_MAX_MS
    print(
        f"streaming p99 {streaming['p99']:.1f} ms (target <= {TARGET_P99_MS:.0f}), "
        f"max {streaming['max']:.1f} ms (target <= {TARGET_MAX_MS:.0f}): "
        f"{'met' if met else 'NOT met'}"
    )
    metrics = {
        "gap_ms_p50": streaming["p50"],
        "gap_ms_p99": streaming["p99"],
        "gap_ms_max": streaming["max"],
        "gap_ms_p99_round_median": median([s["p99"] for s in per_round]),
        "gap_ms_max_round_median": median([s["max"] for s in per_round]),
        "gaps_over_20ms": streaming["stalls"],
        "probe_ticks_streaming": streaming["n"] + len(rounds),
        "lateness_ms_p99": streaming["late_p99"],
        "turn_gap_ms_p99": turn["p99"],
        "turn_gap_ms_max": turn["max"],
        "idle_gap_ms_p50": idle["p50"],
        "idle_gap_ms_p99": idle["p99"],
        "idle_gap_ms_max": idle["max"],
        "long_answer_gap_ms_p99": long_answer["p99"],
        "long_answer_gap_ms_max": long_answer["max"],
        "streaming_s_per_round": median([r.seconds for r in rounds]),
        "tokens_local_per_round": median([r.tokens.get("local", 0) for r in rounds]),
        "tokens_provider_per_round": median([r.tokens.get("provider", 0) for r in rounds]),
        "chars_rendered_per_round": median([r.updated_chars for r in rounds]),
        "pane_updates_per_round": median([r.updates for r in rounds]),
        "pane_updates_per_s_per_pane": updates_per_s,
        "tokens_per_s_per_pane": tokens_per_s,
        "gc_pause_ms_max": gc_streaming,
        "idle_gc_pause_ms_max": idle_gc,
        "first_answer_gap_ms_p99": first_turn["p99"],
        "first_answer_gap_ms_max": first_turn["max"],
        "first_answer_gc_pause_ms_max": first_gc,
        "cpu_task_rounds_per_s": median([r.cpu_task_rounds_per_s for r in rounds]),
        "cores_used_by_app_and_server": median([r.ours_cores for r in rounds]),
        "cores_used_by_other_processes": median([r.other_cores for r in rounds]),
        "cores_used_by_other_processes_idle": median(results.idle_other_cores),
    }
    if attributed:
        metrics |= stalls
    emit(
        "ui_responsiveness",
        metrics,
        notes=(
            f"offscreen window, strategy parallel (embedded Gemma 3 270M in-process + llama.cpp "
            f"server), {MAX_TOKENS} max tokens per pane, pure-Python CPU task in the app's "
            f"worker thread; gaps from first streamed text to both finished, {ROUNDS} rounds "
            f"pooled (after an unpooled first answer), alternating with idle rounds of equal "
            f"length; plus a {LONG_ANSWER_CHARS}-char Markdown answer fed {LONG_ANSWER_PIECE} "
            f"chars per 33 ms. stall_* split the time in gaps > {STALL_MS:.0f} ms (schedstat); "
            f"cores_used_by_other_processes is machine noise"
        ),
    )


if __name__ == "__main__":
    main()
