"""The ``hybridmcp`` command line. ``--help`` and ``--version`` never load Qt or need a display."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hybridmcp_app import APP_NAME, __version__
from hybridmcp_app.cli.mcp_grants_cli import add_grant_parser  # light: the parser only
from hybridmcp_app.config.paths import HOME_ENV_VAR
from hybridmcp_app.orchestration.strategies import STRATEGIES  # light: names and labels only
from hybridmcp_app.orchestration.strategy_registry import StrategyRegistry


def build_parser(strategies: StrategyRegistry = STRATEGIES) -> argparse.ArgumentParser:
    """The whole command line; ``ask --strategy`` offers the names registered in ``strategies``."""
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
    _add_ask_parser(subcommands, strategies)
    _add_library_parser(subcommands)
    _add_game_parser(subcommands)
    _add_mcp_parser(subcommands)
    return parser


# config.settings.GameHost, kept here so that --help does not import the settings (a test keeps
# the two equal).
GAME_HOSTS = ("local", "provider", "hybrid", "embedding")


def _add_game_parser(subcommands: Any) -> None:
    game = subcommands.add_parser(
        "game", help="turtle soup from the command line",
        description="The turtle-soup game's hosts, without the window.",
    )  # fmt: skip
    actions = game.add_subparsers(dest="game_command", metavar="ACTION", required=True)
    judge = actions.add_parser(
        "judge",
        help="judge a question (or a guess) against any puzzle",
        description="Print the host's answer to a question (Yes, No, Irrelevant, Partly), or "
        "with --guess its verdict on a solution (Correct, Close, Incorrect). Exit codes: 0 "
        "judged, 2 bad input, 3 the host is not available.",
    )
    judge.add_argument("text", help="the question, or with --guess the solution (quote it)")
    judge.add_argument("--surface", required=True, help="what the player is told")
    judge.add_argument("--bottom", required=True, help="the hidden truth")
    judge.add_argument("--host", choices=GAME_HOSTS,
                       help="who judges (default: from settings)")  # fmt: skip
    judge.add_argument("--guess", action="store_true", help="judge TEXT as a final guess")
    judge.add_argument("--json", action="store_true", help="also the confidence and the host")


def _add_ask_parser(subcommands: Any, strategies: StrategyRegistry) -> None:
    ask = subcommands.add_parser(
        "ask",
        help="answer one question through the hybrid, without the window",
        description="Run one turn through the orchestrator; print the answer(s) and the trace.",
    )
    ask.add_argument("question", help="the question (quote it)")
    ask.add_argument("--strategy", choices=strategies.names, help="default: from settings")
    ask.add_argument("--provider", metavar="NAME", help="a configured provider (default: active)")
    ask.add_argument("--context", type=Path, metavar="FILE", help="a text file to answer from")
    ask.add_argument("--max-tokens", type=int, metavar="N", help="longest answer, in tokens")
    ask.add_argument("--raw", action="store_true", help="no chat template (base models)")
    ask.add_argument("--json", action="store_true", help="machine-readable output")


# services.mcp_requests.UnattendedAnswer's values, kept here so that --help does not import the
# MCP SDK (a test keeps the two equal).
ELICITATION_ANSWERS = ("decline", "defaults")
MCP_EPILOG = """exit codes:
  0    done
  1    the tool answered with an error, or the server failed to start or answer
  2    bad input or configuration: an unknown or switched-off server or tool, arguments that
       are not a JSON object, a missing secret, a call that needs approval (--yes TOOL)"""


def _add_mcp_parser(subcommands: Any) -> None:
    mcp = subcommands.add_parser(
        "mcp",
        help="the MCP servers of mcp.json: list them, their tools, resources, prompts; call a "
        "tool; sign in",
        description=(  # not re-wrapped (RawDescriptionHelpFormatter, for the epilog's table)
            "The MCP host without the window: the same mcp.json, keychain and approval rules.\n"
            "A server is started for the command and stopped after it."
        ),
        epilog=MCP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the servers of mcp.json, on or off (none started)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    for what in ("tools", "resources", "prompts"):
        offers = actions.add_parser(what, help=f"start SERVER and list its {what}")
        offers.add_argument("server", metavar="SERVER", help="a server's name in mcp.json")
        offers.add_argument("--json", action="store_true", help="machine-readable output")
    call = actions.add_parser(
        "call",
        help="call one tool of SERVER",
        description="Call TOOL of SERVER once. A tool the window would ask about runs only when "
        "--yes names it; read-only and always-allowed tools run as in the window.",
    )
    call.add_argument("server", metavar="SERVER", help="a server's name in mcp.json")
    call.add_argument("tool", metavar="TOOL", help="the tool's name (as `tools SERVER` lists it)")
    call.add_argument("--json", dest="json_arguments", metavar="ARGS",
                      help="the tool's arguments as a JSON object (default: none)")  # fmt: skip
    call.add_argument("--yes", action="append", metavar="TOOL",
                      help="let TOOL (or SERVER__TOOL) run without asking; repeatable")  # fmt: skip
    call.add_argument("--output", choices=("text", "json"), default="text",
                      help="json: the result with is_error and structured content")  # fmt: skip
    _add_elicitation_option(call)
    add_grant_parser(actions)
    sign_in = actions.add_parser(
        "sign-in", help="sign in to a remote SERVER that asks for it (the browser opens)",
        description="Sign in to SERVER with OAuth: the browser opens its sign-in page; the "
        "tokens are kept in the keychain, never in mcp.json.",
    )  # fmt: skip
    sign_in.add_argument("server", metavar="SERVER", help="a remote server's name in mcp.json")
    sign_out = actions.add_parser("sign-out", help="forget the sign-in of a remote SERVER")
    sign_out.add_argument("server", metavar="SERVER", help="a remote server's name in mcp.json")
    # For the MCP conformance suite (scripts/conformance.py clients), not for people.
    conformance = actions.add_parser("conformance-client")
    conformance.add_argument("url", metavar="URL")
    _add_elicitation_option(conformance)


def _add_elicitation_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--elicitation", choices=ELICITATION_ANSWERS, default="decline",
        help="a server's question: decline it (default), or accept the defaults the server "
        "filled in when every required field has one",
    )  # fmt: skip


# The exit codes of cli/library.py (EXIT_*), kept here so that --help does not import it.
LIBRARY_EPILOG = """exit codes:
  0    done
  1    some files failed (the rest were indexed), nothing found, or nothing removed
  2    wrong arguments (a path that does not exist, an empty query): nothing was done
  3    the library could not be used (open in another process, storage full or unreachable)
  130  cancelled with Ctrl+C (add: what was indexed stays; the next add finishes the rest)"""


def _add_library_parser(subcommands: Any) -> None:
    library = subcommands.add_parser(
        "library",
        help="add, search and inspect the document library, without the window",
        description=(  # not re-wrapped (RawDescriptionHelpFormatter, for the epilog's table)
            "The document library, through the same service as the window's Library tab.\n"
            "Results go to stdout; progress, warnings and errors to stderr."
        ),
        epilog=LIBRARY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = library.add_subparsers(dest="library_command", metavar="ACTION", required=True)
    for add_action in LIBRARY_ACTIONS:
        add_action(actions)


def _add_library_add(actions: Any) -> None:
    add = actions.add_parser(
        "add",
        help="index files and folders (new and changed files only)",
        description=(
            "Index files and folders: new and changed files are indexed, files gone from a "
            "folder leave the library. A run that was interrupted is finished first."
        ),
    )
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a file or folder")
    add.add_argument("--force", action="store_true", help="re-index unchanged files too")
    add.add_argument("--json", action="store_true", help="print the summary as JSON")


def _add_library_search(actions: Any) -> None:
    search = actions.add_parser(
        "search",
        help="the passages closest in meaning to a query",
        description="Print the passages closest in meaning to QUERY, best first.",
    )
    search.add_argument("query", metavar="QUERY", help="what to look for (quote it)")
    search.add_argument(
        "-k", type=_positive_int, default=8, metavar="N", help="how many passages (default: 8)"
    )
    search.add_argument("--json", action="store_true", help="print the hits as a JSON list")


def _add_library_status(actions: Any) -> None:
    status = actions.add_parser(
        "status",
        help="every file's state, and why the failed ones failed",
        description="List the library's files: state, chunks, when indexed, why failed.",
    )
    status.add_argument("--failed", action="store_true", help="list only the files that failed")
    status.add_argument("--json", action="store_true", help="machine-readable output")


def _add_library_remove(actions: Any) -> None:
    remove = actions.add_parser(
        "remove",
        help="take files or folders out of the library (not off the disk)",
        description="Take files, or every file under folders, out of the library.",
    )
    remove.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a file or folder")
    remove.add_argument("--json", action="store_true", help="print the count as JSON")


def _add_library_watch(actions: Any) -> None:
    watch = actions.add_parser(
        "watch",
        help="keep folders in the library in sync until Ctrl+C (the window follows them too)",
        description=(
            "Add folders to the watched folders (kept in the settings, so the window follows "
            "them as well), bring them in sync, then index what changes in them until Ctrl+C. "
            "Without PATH, follow the folders already watched."
        ),
    )
    watch.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="a folder")
    watch.add_argument("--once", action="store_true", help="sync once, then stop")


# One function per ``hybridmcp library ACTION``; an action also needs its entry in
# ACTIONS in cli/library.py.
LIBRARY_ACTIONS = (
    _add_library_add, _add_library_search, _add_library_status, _add_library_remove,
    _add_library_watch,
)  # fmt: skip


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.home is not None:
        os.environ[HOME_ENV_VAR] = str(args.home.expanduser().resolve())
    if args.command == "ask":
        from hybridmcp_app.cli.ask import main_ask

        return main_ask(args)
    if args.command == "library":
        from hybridmcp_app.cli.library import main_library

        return main_library(args)
    if args.command == "mcp" and args.mcp_command == "grant":
        from hybridmcp_app.cli.mcp_grants_cli import main_grant

        return main_grant(args)
    if args.command == "mcp":
        from hybridmcp_app.cli.mcp import main_mcp

        return main_mcp(args)
    if args.command == "game":
        from hybridmcp_app.cli.game import main_game

        return main_game(args)
    from hybridmcp_app.app import run_gui  # Qt loads only now, after --help/--version are done.

    return run_gui(verbose=args.verbose, argv=[sys.argv[0]])
