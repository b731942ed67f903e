import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hybridmcp_app import __version__
from hybridmcp_app.cli.library import ACTIONS
from hybridmcp_app.cli.library_progress import ProgressReporter
from hybridmcp_app.cli.main import build_parser
from hybridmcp_app.documents.library_service import IndexProgress


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
        "from hybridmcp_app.cli.main import main\n"
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


def test_help_and_version_load_neither_qt_nor_the_library_stack() -> None:
    probe = (
        "import sys\n"
        "from hybridmcp_app.cli.main import main\n"
        "for argv in (['--help'], ['--version'], ['library', '--help'], ['library', 'add', '-h'],\n"
        "             ['library', 'search', '--help'], ['library', 'status', '-h']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('PySide6', 'chromadb', 'numpy', 'onnxruntime', 'tqdm', 'pymupdf')\n"
        "print('LOADED:', [name for name in heavy if name in sys.modules], file=sys.stderr)\n"
    )
    result = _run(code=probe)
    assert result.returncode == 0, result.stderr
    assert "LOADED: []" in result.stderr


def test_library_help_lists_the_actions_and_the_exit_codes() -> None:
    result = _run("library", "--help")
    assert result.returncode == 0
    for text in ("add", "search", "status", "remove", "exit codes:", "130"):
        assert text in result.stdout


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_library_add_takes_paths_and_force() -> None:
    args = parse("library", "add", "a.pdf", "docs", "--force")
    assert (args.command, args.library_command) == ("library", "add")
    assert args.paths == [Path("a.pdf"), Path("docs")]
    assert (args.force, args.json) == (True, False)


def test_library_search_takes_a_query_a_count_and_json() -> None:
    args = parse("library", "search", "what is a comet", "-k", "3", "--json")
    assert (args.query, args.k, args.json) == ("what is a comet", 3, True)
    assert parse("library", "search", "x").k == 8


def test_library_status_and_remove_parse() -> None:
    status = parse("library", "status", "--failed", "--json")
    assert (status.library_command, status.failed, status.json) == ("status", True, True)
    remove = parse("library", "remove", "docs/old.md")
    assert (remove.library_command, remove.paths) == ("remove", [Path("docs/old.md")])


@pytest.mark.parametrize(
    "argv",
    [
        ["library"],
        ["library", "add"],
        ["library", "remove"],
        ["library", "search"],
        ["library", "search", "x", "-k", "0"],
        ["library", "search", "x", "-k", "many"],
        ["library", "frobnicate"],
    ],
)
def test_wrong_library_arguments_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert "usage: hybridmcp library" in capsys.readouterr().err


def test_every_library_action_has_a_handler() -> None:
    parser = build_parser()
    subcommands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    library = subcommands.choices["library"]
    actions = next(
        action for action in library._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert set(actions.choices) == set(ACTIONS) == {"add", "search", "status", "remove", "watch"}


def progress_events(total: int) -> list[IndexProgress]:
    return [
        IndexProgress(done=done, total=total, chunks=done * 4, current=Path(f"f{done}.md"))
        for done in range(total + 1)
    ]


def test_progress_off_a_terminal_is_a_few_plain_lines() -> None:
    stream = io.StringIO()
    reporter = ProgressReporter(stream, "indexing", interactive=False, every_s=3600)
    for event in progress_events(5):
        reporter(event)
    reporter.close()
    assert stream.getvalue().splitlines() == [
        "indexing: 0/5 files, 0 chunks",
        "indexing: 5/5 files, 20 chunks",
    ]


def test_progress_on_a_terminal_is_a_bar_that_ends_full() -> None:
    stream = io.StringIO()
    reporter = ProgressReporter(stream, "indexing", interactive=True)
    for event in progress_events(3):
        reporter(event)
    reporter.close()
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("indexing: 100%")
    assert "3/3" in last
    assert "12 chunks" in last


def test_the_library_help_lists_every_exit_code_of_the_command() -> None:
    from hybridmcp_app.cli import library
    from hybridmcp_app.cli.main import LIBRARY_EPILOG

    codes = {value for name, value in vars(library).items() if name.startswith("EXIT_")}
    listed = {int(line.split()[0]) for line in LIBRARY_EPILOG.splitlines()[1:]}
    assert listed == codes


def test_the_game_hosts_on_the_command_line_match_the_settings() -> None:
    from typing import get_args

    from hybridmcp_app.cli.main import GAME_HOSTS
    from hybridmcp_app.config.settings import GameHost

    assert get_args(GameHost) == GAME_HOSTS


def test_ask_help_lists_the_registered_strategies_without_loading_numpy_or_an_sdk() -> None:
    probe = (
        "import sys\n"
        "from hybridmcp_app.cli.main import main\n"
        "for argv in (['--help'], ['ask', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('numpy', 'openai', 'llama_cpp', 'onnxruntime', 'mcp')\n"
        "print('LOADED:', [name for name in heavy if name in sys.modules], file=sys.stderr)\n"
    )
    result = _run(code=probe)
    assert result.returncode == 0, result.stderr
    assert "LOADED: []" in result.stderr
    assert "draft_refine" in result.stdout
