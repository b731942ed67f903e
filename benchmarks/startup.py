"""Cold start to main window shown, and idle memory: HybridMCP versus a bare PySide6 window.

Each run is a fresh process with a fresh HYBRIDMCP_HOME, offscreen. App and bare-Qt runs
alternate so machine noise hits both alike; medians of 5 each. The clock is CLOCK_MONOTONIC,
shared by parent and child: from just before the process is spawned to the first event-loop
turn after the window is shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import emit, median, print_table

RUNS = 5
IDLE_S = 2.0
TARGET_SHOWN_S, TARGET_RSS_MB = 1.5, 250.0

BARE_QT = """
import json, os, sys, time
import psutil
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
window = QMainWindow()
window.resize(1200, 800)
record = {}
def finish():
    record["idle_rss_mb"] = psutil.Process().memory_info().rss / 2**20
    open(os.environ["HYBRIDMCP_STARTUP_PROBE"], "w").write(json.dumps(record))
    app.quit()
window.show()
QTimer.singleShot(0, lambda: record.setdefault("shown_monotonic", time.monotonic()))
QTimer.singleShot(int(float(os.environ["HYBRIDMCP_STARTUP_PROBE_IDLE_S"]) * 1000), finish)
app.exec()
"""


def _one_run(command: list[str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="hybridmcp-startup-") as home:
        probe = Path(home) / "probe.json"
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HYBRIDMCP_HOME": home,
            "HYBRIDMCP_STARTUP_PROBE": str(probe),
            "HYBRIDMCP_STARTUP_PROBE_IDLE_S": str(IDLE_S),
        }
        started = time.monotonic()
        subprocess.run(command, env=env, check=True, timeout=120, capture_output=True)
        record = json.loads(probe.read_text())
    return record["shown_monotonic"] - started, record["idle_rss_mb"]


def main() -> None:
    app = [sys.executable, "-m", "hybridmcp_app"]
    bare = [sys.executable, "-c", BARE_QT]
    _one_run(app)  # warm the OS file cache once; not counted
    results: dict[str, list[tuple[float, float]]] = {"app": [], "bare": []}
    for _ in range(RUNS):
        results["app"].append(_one_run(app))
        results["bare"].append(_one_run(bare))
    shown = {k: median([r[0] for r in v]) for k, v in results.items()}
    rss = {k: median([r[1] for r in v]) for k, v in results.items()}
    rows = [
        [name, f"{shown[key]:.3f}", f"{min(r[0] for r in results[key]):.3f}",
         f"{max(r[0] for r in results[key]):.3f}", f"{rss[key]:.1f}"]
        for key, name in (("app", "HybridMCP"), ("bare", "bare PySide6 window"))
    ]  # fmt: skip
    print_table(
        f"Cold start, offscreen, {RUNS} fresh processes each (alternating)",
        rows,
        ["what", "shown s (median)", "min", "max", f"RSS MB after {IDLE_S:.0f} s idle"],
    )
    met_time = shown["app"] <= TARGET_SHOWN_S
    met_rss = rss["app"] <= TARGET_RSS_MB
    print(f"target window shown <= {TARGET_SHOWN_S} s: {'met' if met_time else 'NOT met'}")
    print(f"target idle RSS <= {TARGET_RSS_MB:.0f} MB: {'met' if met_rss else 'NOT met'}")
    emit(
        "startup",
        {
            "window_shown_s_median": shown["app"],
            "idle_rss_mb": rss["app"],
            "bare_qt_shown_s_median": shown["bare"],
            "bare_qt_idle_rss_mb": rss["bare"],
            "shown_vs_bare_qt_ratio": shown["app"] / shown["bare"],
        },
        f"median of {RUNS} fresh offscreen processes, alternating HybridMCP and a bare PySide6 "
        "window; spawn to first event-loop turn after show; RSS after idling",
    )


if __name__ == "__main__":
    main()
