"""A settings.json nested 100,000 levels deep (planted, or broken by a tool) does not stop the
real app: it starts on defaults, says why, and keeps the file aside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hybridmcp_app.config.paths import AppPaths


def test_the_app_starts_on_defaults_over_a_settings_file_nested_too_deep(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    hostile = "[" * 100_000 + "]" * 100_000
    app_paths.settings_file.write_text(hostile)
    probe = tmp_path / "probe.json"
    environment = {
        **os.environ, "QT_QPA_PLATFORM": "offscreen", "HYBRIDMCP_STARTUP_PROBE": str(probe),
        "HYBRIDMCP_STARTUP_PROBE_IDLE_S": "0.3",
    }  # fmt: skip
    app = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app"], env=environment, capture_output=True,
        text=True, timeout=240, check=False,
    )  # fmt: skip
    assert app.returncode == 0, app.stderr[-3000:]
    assert json.loads(probe.read_text())["idle_rss_mb"] > 0  # the window was shown
    (kept,) = app_paths.config_dir.glob("settings.json.broken-*")
    assert kept.read_text() == hostile
    assert "settings.json is nested deeper than 64 levels" in app_paths.log_file.read_text()
