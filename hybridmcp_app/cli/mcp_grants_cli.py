"""``hybridmcp mcp grant SERVER [--root DIR] [--revoke-root DIR] [--sampling SOURCE]``: what a
server may ask of the host, as the MCP tab's "Permissions…" sets it (``mcp-grants.json``).
With no option it prints the server's grants. The parser is light: ``--help`` imports nothing
else."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

SAMPLING_SOURCES = ("local", "provider", "auto", "off")  # config.mcp_grants.SamplingSource
EXIT_OK, EXIT_USAGE = 0, 2


def add_grant_parser(actions: Any) -> None:
    """``grant`` under ``hybridmcp mcp``."""
    grant = actions.add_parser(
        "grant",
        help="grant SERVER folders (roots) or set how its sampling requests are answered",
        description="Change what SERVER may ask of HybridMCP, as the MCP tab's Permissions… "
        "does. With no option: show what it is granted.",
    )
    grant.add_argument("server", metavar="SERVER", help="a server's name in mcp.json")
    grant.add_argument("--root", action="append", type=Path, default=[], metavar="DIR",
                       help="let SERVER see DIR as a root (repeatable)")  # fmt: skip
    grant.add_argument("--revoke-root", action="append", type=Path, default=[], metavar="DIR",
                       help="take DIR back (repeatable)")  # fmt: skip
    grant.add_argument("--sampling", choices=SAMPLING_SOURCES,
                       help="who answers its sampling requests; off refuses them")  # fmt: skip


async def run_grant(args: argparse.Namespace, out: TextIO) -> int:
    """Apply the options to the server's grants, then print them."""
    from hybridmcp_app.config.mcp_grants import MCP_GRANTS_FILE, McpGrantsStore
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.config.paths import AppPaths
    from hybridmcp_app.config.settings_store import SettingsStore
    from hybridmcp_app.core.errors import ConfigError
    from hybridmcp_app.mcp_host.builtin_servers import builtin_entries
    from hybridmcp_app.services.mcp_roots import McpRoots

    paths = AppPaths.from_environment()
    settings, _report = await asyncio.to_thread(SettingsStore(paths).load)
    source = McpJsonFile(settings.mcp.config_path or paths.mcp_config_file, builtin_entries())
    servers = (await asyncio.to_thread(source.read)).servers
    if args.server not in servers:
        raise ConfigError(f"no server {args.server!r} in {source.path}")
    roots = McpRoots(McpGrantsStore(paths.config_dir / MCP_GRANTS_FILE))
    current = await roots.grants_for(args.server)
    if args.root or args.revoke_root:
        revoked = {folder.expanduser().resolve() for folder in args.revoke_root}
        kept = [folder for folder in current.roots if folder not in revoked]
        await roots.grant(args.server, [*kept, *args.root])
    if args.sampling is not None:
        sampling = current.sampling.model_copy(update={"source": args.sampling})
        await roots.set_sampling(args.server, sampling)
    grants = await roots.grants_for(args.server)
    sampling = grants.sampling
    print(f"{args.server}: sampling {sampling.source}, approval {sampling.approval}, "
          f"up to {sampling.max_tokens} tokens", file=out)  # fmt: skip
    for folder in grants.roots:
        print(f"  root {folder}", file=out)
    if not grants.roots:
        print("  no folders granted", file=out)
    return EXIT_OK


def main_grant(args: argparse.Namespace) -> int:
    from hybridmcp_app.core.errors import HybridMCPError

    try:
        return asyncio.run(run_grant(args, sys.stdout))
    except HybridMCPError as error:
        print(f"hybridmcp mcp grant: {error}", file=sys.stderr)
        return EXIT_USAGE
