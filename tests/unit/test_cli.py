import os
import subprocess
import sys
from pathlib import Path

import pytest

from hybridmcp_app import __version__


def _run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env.pop("QT_QPA_PLATFORM", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "hybridmcp_app"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_version_prints_the_version_without_a_display() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"HybridMCP {__version__}"


def test_help_describes_the_options_without_a_display() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for option in ("--version", "--verbose", "--home", "HYBRIDMCP_HOME"):
        assert option in result.stdout


def test_help_and_version_do_not_load_qt() -> None:
    probe = (
        "import sys\n"
        "from hybridmcp_app.cli import main\n"
        "for flag in ('--help', '--version'):\n"
        "    try:\n"
        "        main([flag])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('QT-LOADED' if 'PySide6' in sys.modules else 'QT-ABSENT', file=sys.stderr)\n"
    )
    result = _run(code=probe)
    assert result.returncode == 0
    assert "QT-ABSENT" in result.stderr


def test_an_unknown_option_fails_with_usage() -> None:
    result = _run("--frobnicate")
    assert result.returncode == 2
    assert "usage: hybridmcp" in result.stderr


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_the_console_script_is_installed(flag: str) -> None:
    script = Path(sys.executable).with_name("hybridmcp")
    result = subprocess.run(
        [str(script), flag], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert "usage: hybridmcp" in result.stdout
