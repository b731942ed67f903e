"""The app on a real X server, as `make run` starts it on a desktop."""

import json
import os
import subprocess
import sys
from pathlib import Path

from hybridmcp_app.config.paths import AppPaths


def test_the_app_reaches_its_window_on_an_x_server(
    x_display: str, app_paths: AppPaths, tmp_path: Path
) -> None:
    probe = tmp_path / "probe.json"
    env = {
        **os.environ,
        "DISPLAY": x_display,
        "QT_QPA_PLATFORM": "xcb",
        "HYBRIDMCP_STARTUP_PROBE": str(probe),
        "HYBRIDMCP_STARTUP_PROBE_IDLE_S": "0.3",
    }
    result = subprocess.run(
        [sys.executable, "-m", "hybridmcp_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "shown_monotonic" in json.loads(probe.read_text())
    assert "Could not load the Qt platform plugin" not in result.stderr
