"""The ``hybridmcp`` command line. ``--help`` and ``--version`` never load Qt or need a display."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hybridmcp_app import APP_NAME, __version__
from hybridmcp_app.config.paths import HOME_ENV_VAR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybridmcp",
        description=(
            f"{APP_NAME}: a local GGUF model and provider LLMs side by side, MCP servers, "
            "a document library and a turtle-soup game. Without options it opens the window."
        ),
        epilog=(
            f"Environment: {HOME_ENV_VAR}=DIR keeps config, data, cache and logs under DIR; "
            "HYBRIDMCP_<SECTION>__<FIELD>=VALUE overrides a setting, e.g. HYBRIDMCP_UI__THEME=dark."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug messages, also to stderr"
    )
    parser.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help=f"keep every file of the app under DIR (same as {HOME_ENV_VAR})",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_ask_parser(subcommands)
    return parser


# The names of orchestration.strategies.available_strategies(), kept here so that --help and
# the window's start-up do not import the orchestrator (a test keeps the two lists equal).
STRATEGY_NAMES = (
    "boost", "cache", "cascade", "draft_refine", "failover", "local", "parallel", "provider",
    "route", "verify",
)  # fmt: skip


def _add_ask_parser(subcommands: Any) -> None:
    ask = subcommands.add_parser(
        "ask",
        help="answer one question through the hybrid, without the window",
        description="Run one turn through the orchestrator; print the answer(s) and the trace.",
    )
    ask.add_argument("question", help="the question (quote it)")
    ask.add_argument("--strategy", choices=STRATEGY_NAMES, help="default: from settings")
    ask.add_argument("--provider", metavar="NAME", help="a configured provider (default: active)")
    ask.add_argument("--context", type=Path, metavar="FILE", help="a text file to answer from")
    ask.add_argument("--max-tokens", type=int, metavar="N", help="longest answer, in tokens")
    ask.add_argument("--raw", action="store_true", help="no chat template (base models)")
    ask.add_argument("--json", action="store_true", help="machine-readable output")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.home is not None:
        os.environ[HOME_ENV_VAR] = str(args.home.expanduser().resolve())
    if args.command == "ask":
        from hybridmcp_app.ask_command import main_ask

        return main_ask(args)
    from hybridmcp_app.app import run_gui  # Qt loads only now, after --help/--version are done.

    return run_gui(verbose=args.verbose, argv=[sys.argv[0]])
