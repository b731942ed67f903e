"""The real app in its own process: starts, shows the window, and shuts down cleanly."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hybridmcp_app.config.paths import AppPaths
from tests.helpers.waiting import PATIENCE_S


def _launch(app_paths: AppPaths, extra_env: dict[str, str]) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **extra_env}
    return subprocess.Popen(
        [sys.executable, "-m", "hybridmcp_app", "--verbose"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _run_to_window_and_back(app_paths: AppPaths, probe: Path) -> None:
    """Start the app with the startup probe: it shows its window, idles briefly and quits."""
    process = _launch(
        app_paths,
        {"HYBRIDMCP_STARTUP_PROBE": str(probe), "HYBRIDMCP_STARTUP_PROBE_IDLE_S": "0.3"},
    )
    output, _ = process.communicate(timeout=PATIENCE_S)
    assert process.returncode == 0, output
    assert probe.exists()


def _wait_for(condition: object, timeout_s: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout_s} s")


def test_the_app_shows_its_window_and_exits_cleanly(app_paths: AppPaths, tmp_path: Path) -> None:
    probe = tmp_path / "probe.json"
    _run_to_window_and_back(app_paths, probe)
    record = json.loads(probe.read_text())
    assert record["idle_rss_mb"] > 10
    assert record["heavy_before_show"] == ""  # llama.cpp, Chroma, ONNX… load after the window
    log = app_paths.log_file.read_text()
    assert "main window shown" in log
    assert "HybridMCP stopped" in log
    assert "window_geometry" in app_paths.settings_file.read_text()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_termination_signal_closes_the_window_and_saves_its_layout(
    app_paths: AppPaths, signum: int
) -> None:
    process = _launch(app_paths, {})
    try:
        _wait_for(
            lambda: (
                app_paths.log_file.exists()
                and "main window shown" in app_paths.log_file.read_text()
            ),
        )
        process.send_signal(signum)
        output, _ = process.communicate(timeout=PATIENCE_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    log = app_paths.log_file.read_text()
    assert "HybridMCP stopped" in log
    # The signal came while the app was still starting (keychain, library, first-run wizard):
    # nothing that was under way resumes into the closed window.
    assert " ERROR " not in log, log
    assert json.loads(app_paths.settings_file.read_text())["ui"]["window_geometry"]


@pytest.mark.parametrize("completed", [False, True])
def test_the_setup_wizard_opens_on_the_first_start_only(
    app_paths: AppPaths, completed: bool
) -> None:
    app_paths.settings_file.write_text(json.dumps({"ui": {"first_run_completed": completed}}))
    process = _launch(app_paths, {"HYBRIDMCP_LLM__LOCAL__LOAD_ON_START": "false"})
    try:
        _wait_for(
            lambda: (
                "main window shown" in app_paths.log_file.read_text()
                if app_paths.log_file.exists()
                else False
            ),
        )
        if completed:
            # A wizard opened by mistake would be shown after one read of mcp.json in a
            # thread; the app's own documents server is ready only after a longer chain (the
            # keychain, the library, the host). If the order ever varied, a bug could slip
            # through, but a correct app could never fail.
            _wait_for(lambda: "documents ready" in app_paths.log_file.read_text())
        else:
            _wait_for(lambda: "first-run setup shown" in app_paths.log_file.read_text())
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=PATIENCE_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert ("first-run setup shown" in app_paths.log_file.read_text()) is not completed


def test_a_broken_settings_file_does_not_stop_the_app(app_paths: AppPaths, tmp_path: Path) -> None:
    app_paths.settings_file.write_text("{ this is not json")
    _run_to_window_and_back(app_paths, tmp_path / "probe.json")
    assert len(list(app_paths.config_dir.glob("settings.json.broken-*"))) == 1
    assert "settings file could not be used" in app_paths.log_file.read_text()
