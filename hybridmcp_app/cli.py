"""The ``hybridmcp`` command line. ``--help`` and ``--version`` never load Qt or need a display."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.home is not None:
        os.environ[HOME_ENV_VAR] = str(args.home.expanduser().resolve())
    from hybridmcp_app.app import run_gui  # Qt loads only now, after --help/--version are done.

    return run_gui(verbose=args.verbose, argv=[sys.argv[0]])
