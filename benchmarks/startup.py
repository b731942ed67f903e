"""Cold start to main window shown, and idle memory: HybridMCP versus a bare PySide6 window, and
the PyInstaller bundle (``make bundle``: dist/hybridmcp/hybridmcp) when it has been built.

Each run is a fresh process with a fresh HYBRIDMCP_HOME, offscreen. App, bundle and bare-Qt runs
alternate so machine noise hits all alike; medians of 5 each. The clock is CLOCK_MONOTONIC,
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
IDLE_S = 3.0
BUNDLE = Path(__file__).resolve().parents[1] / "dist" / "hybridmcp" / "hybridmcp"
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


def _one_run(command: list[str], home: str, extra_env: dict[str, str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="hybridmcp-probe-") as probe_dir:
        probe = Path(probe_dir) / "probe.json"
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HYBRIDMCP_HOME": home,
            "HYBRIDMCP_STARTUP_PROBE": str(probe),
            "HYBRIDMCP_STARTUP_PROBE_IDLE_S": str(IDLE_S),
            **extra_env,
        }
        started = time.monotonic()
        subprocess.run(command, env=env, check=True, timeout=120, capture_output=True)
        record = json.loads(probe.read_text())
    return record["shown_monotonic"] - started, record["idle_rss_mb"]


VARIANTS = {
    # key: (label, command, environment)
    "shell": (
        "HybridMCP, local model off",
        "app",
        {"HYBRIDMCP_LLM__LOCAL__LOAD_ON_START": "false"},
    ),
    "model": ("HybridMCP, embedded model loading", "app", {}),
    "bare": ("bare PySide6 window", "bare", {}),
    "bundle_shell": (
        "bundle, local model off",
        "bundle",
        {"HYBRIDMCP_LLM__LOCAL__LOAD_ON_START": "false"},
    ),
    "bundle_model": ("bundle, embedded model loading", "bundle", {}),
}


def main() -> None:
    commands = {
        "app": [sys.executable, "-m", "hybridmcp_app"],
        "bare": [sys.executable, "-c", BARE_QT],
    }
    if BUNDLE.is_file():
        commands["bundle"] = [str(BUNDLE)]
    variants = {key: v for key, v in VARIANTS.items() if v[1] in commands}
    results: dict[str, list[tuple[float, float]]] = {key: [] for key in variants}
    with tempfile.TemporaryDirectory(prefix="hybridmcp-startup-") as home:
        # A returning user: the first (uncounted) run writes settings and joins the model; the
        # bundle's first run (uncounted too) brings its files into the page cache.
        _one_run(commands["app"], home, {})
        if "bundle" in commands:
            _one_run(commands["bundle"], home, {})
        for _ in range(RUNS):
            for key, (_, command, extra_env) in variants.items():
                results[key].append(_one_run(commands[command], home, extra_env))
    shown = {k: median([r[0] for r in v]) for k, v in results.items()}
    rss = {k: median([r[1] for r in v]) for k, v in results.items()}
    rows = [
        [label, f"{shown[key]:.3f}", f"{min(r[0] for r in results[key]):.3f}",
         f"{max(r[0] for r in results[key]):.3f}", f"{rss[key]:.1f}"]
        for key, (label, _, _) in variants.items()
    ]  # fmt: skip
    if "bundle" not in commands:
        rows.append(["bundle: not built (make bundle), not measured", "-", "-", "-", "-"])
    print_table(
        f"Cold start, offscreen, {RUNS} fresh processes each (alternating)",
        rows,
        ["what", "shown s (median)", "min", "max", f"RSS MB after {IDLE_S:.0f} s idle"],
    )
    for key in ("shell", "model", "bundle_shell", "bundle_model"):
        if key not in variants:
            continue
        verdict_time = "met" if shown[key] <= TARGET_SHOWN_S else "NOT met"
        verdict_rss = "met" if rss[key] <= TARGET_RSS_MB else "NOT met"
        print(f"{VARIANTS[key][0]}: shown <= {TARGET_SHOWN_S} s {verdict_time}; "
              f"idle RSS <= {TARGET_RSS_MB:.0f} MB {verdict_rss}")  # fmt: skip
    metrics = {
        "window_shown_s_median": shown["model"],
        "idle_rss_mb": rss["shell"],
        "idle_rss_mb_with_model": rss["model"],
        "window_shown_s_median_model_off": shown["shell"],
        "bare_qt_shown_s_median": shown["bare"],
        "bare_qt_idle_rss_mb": rss["bare"],
        "shown_vs_bare_qt_ratio": shown["model"] / shown["bare"],
    }
    if "bundle" in commands:
        metrics |= {
            "bundle_window_shown_s_median": shown["bundle_model"],
            "bundle_idle_rss_mb": rss["bundle_shell"],
            "bundle_idle_rss_mb_with_model": rss["bundle_model"],
            "bundle_window_shown_s_median_model_off": shown["bundle_shell"],
            "bundle_vs_app_shown_ratio": shown["bundle_model"] / shown["model"],
        }
        bundle_note = (
            f"; bundle_* are the same two variants run from the PyInstaller bundle {BUNDLE}"
        )
    else:
        bundle_note = f"; the bundle ({BUNDLE}) was not built (make bundle), so not measured"
    emit(
        "startup",
        metrics,
        f"median of {RUNS} fresh offscreen processes per variant, alternating; spawn to first "
        "event-loop turn after show; RSS after idling. idle_rss_mb is the app with its local "
        "model off; idle_rss_mb_with_model has the embedded model loaded (mmap'd weights count)"
        + bundle_note,
    )


if __name__ == "__main__":
    main()
