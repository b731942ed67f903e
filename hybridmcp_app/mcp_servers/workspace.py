"""The ``workspace`` MCP server: workspace housekeeping, sandboxed to its root folders.

    python -m hybridmcp_app.mcp_servers.workspace [--root DIR ...] [--backup-dir DIR]
        [--max-read-bytes N] [--max-write-bytes N] [--max-backup-bytes N]
        [--http [--host 127.0.0.1] [--port N]]

A thin layer over ``WorkspaceService``: one tool per operation, inputs checked by their schema
(lengths, ranges, the snapshot id's pattern), answers as structured output, and every refusal an
MCP tool error (``isError``) with the service's message, never a traceback. With no ``--root``
the roots in HybridMCP's settings (``mcp.workspace_roots``) are the workspace; with none there
either it does not start (never the folder it was started in: that is wherever the app or the
client happened to be launched) and says how to choose one.

No ``from __future__ import annotations`` here: the SDK reads the tools' signatures with
``eval_str``, which cannot see the limits that ``build`` puts into the content's schema.
"""

import argparse
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from hybridmcp_app.documents.document_scanner import human_size
from hybridmcp_app.mcp_servers.server_base import (
    READS,
    MCPServerBase,
    answer_or_refuse,
    tool_hints,
)
from hybridmcp_app.workspace.sandbox import MAX_PATH_CHARS, SizeLimits, WorkspaceError
from hybridmcp_app.workspace.snapshots import STAMP_PATTERN
from hybridmcp_app.workspace.workspace_models import (
    BackupResult,
    EditResult,
    FileContent,
    InventoryResult,
    RestoreResult,
    SearchResult,
    SnapshotList,
    WriteResult,
)
from hybridmcp_app.workspace.workspace_service import WorkspaceService

T = TypeVar("T")
NO_ROOT = (
    "no workspace folder chosen: choose one when you switch the server on in HybridMCP's MCP "
    "Servers tab (or in Settings → MCP servers → Workspace roots), or pass --root DIR"
)

# replaces content, but the same call twice changes nothing more
OVERWRITES = tool_hints(read_only=False, destructive=True, idempotent=True)
EDITS = tool_hints(read_only=False, destructive=True, idempotent=False)
# only adds new files (a timestamped backup folder)
ADDS = tool_hints(read_only=False, destructive=False, idempotent=False)
# rewrites only its own registry and report
REFRESHES = tool_hints(read_only=False, destructive=False, idempotent=True)

FilePath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PATH_CHARS,
        description="Relative to the first workspace root, or absolute inside a root. "
        "'..' is refused.",
    ),
]
Query = Annotated[str, Field(min_length=1, max_length=1000, description="Plain text to find.")]
SnapshotId = Annotated[str, Field(pattern=STAMP_PATTERN, description="From list_snapshots.")]


async def _answer(call: Awaitable[T]) -> T:
    return await answer_or_refuse(call, WorkspaceError)


class WorkspaceServer(MCPServerBase):
    """``WorkspaceService``'s operations as MCP tools, with accurate annotations."""

    name = "workspace"

    def __init__(self, service: WorkspaceService) -> None:
        self.service = service

    def instructions(self) -> str:
        roots = ", ".join(str(root) for root in self.service.roots)
        limits = self.service.limits
        return (
            f"Files of the workspace roots {roots}. Relative paths start at the first root. "
            "Every change to an existing file first saves a snapshot: list_snapshots shows "
            "them and restore_snapshot puts one back. Reads up to "
            f"{human_size(limits.max_read_bytes)}, writes up to "
            f"{human_size(limits.max_write_bytes)}."
        )

    def build(self) -> MCPServer:
        server = MCPServer(self.name, instructions=self.instructions())
        service = self.service
        content_chars = self.service.limits.max_write_bytes  # UTF-8: never fewer bytes than chars

        @server.tool(annotations=REFRESHES)
        async def inventory(
            root: Annotated[
                str | None, Field(max_length=MAX_PATH_CHARS, description="One root; all if none.")
            ] = None,
        ) -> InventoryResult:
            """Scan the root folders (.gitignore-aware, hashing changed files), write
            file_registry.json and inventory.md into each root's .hybridmcp-workspace folder,
            and return the report."""
            return await _answer(service.inventory(root))

        @server.tool(annotations=READS)
        async def read_file(path: FilePath) -> FileContent:
            """Read a UTF-8 text file of the workspace."""
            return await _answer(service.read_file(path))

        @server.tool(annotations=READS)
        async def search_files(
            query: Query,
            path: FilePath = ".",
            glob: Annotated[
                str | None, Field(max_length=200, description="Only files matching, e.g. *.py")
            ] = None,
            case_sensitive: bool = False,
            max_results: Annotated[int, Field(ge=1, le=500)] = 50,
        ) -> SearchResult:
            """Find lines holding the text in the workspace's text files (those .gitignore does
            not exclude), in path and line order."""
            return await _answer(
                service.search_files(
                    query, path, glob=glob, case_sensitive=case_sensitive, max_results=max_results
                )
            )

        @server.tool(annotations=OVERWRITES)
        async def write_file(
            path: FilePath,
            content: Annotated[str, Field(max_length=content_chars, description="UTF-8 text.")],
        ) -> WriteResult:
            """Create or replace a text file (missing folders are created). An existing file
            is snapshotted first; writing what it already holds changes nothing."""
            return await _answer(service.write_file(path, content))

        @server.tool(annotations=EDITS)
        async def edit_file(
            path: FilePath,
            old_text: Annotated[str, Field(min_length=1, max_length=content_chars)],
            new_text: Annotated[str, Field(max_length=content_chars)],
        ) -> EditResult:
            """Replace old_text, which must occur exactly once, with new_text. The file is
            snapshotted first."""
            return await _answer(service.edit_file(path, old_text, new_text))

        @server.tool(annotations=READS)
        async def list_snapshots(
            path: Annotated[
                str | None, Field(max_length=MAX_PATH_CHARS, description="One file; all if none.")
            ] = None,
            limit: Annotated[int, Field(ge=1, le=1000)] = 50,
        ) -> SnapshotList:
            """The pre-edit snapshots, newest first."""
            return await _answer(service.list_snapshots(path, limit))

        @server.tool(annotations=OVERWRITES)
        async def restore_snapshot(snapshot_id: SnapshotId) -> RestoreResult:
            """Put a snapshot's content back into its file. The current content is snapshotted
            first, so the restore can be undone."""
            return await _answer(service.restore_snapshot(snapshot_id))

        @server.tool(annotations=ADDS)
        async def backup(
            paths: Annotated[list[FilePath], Field(min_length=1, max_length=100)],
        ) -> BackupResult:
            """Copy files and folders of one root into a new timestamped backup folder."""
            return await _answer(service.backup(paths))

        return server


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of bytes")
    return value


def _settings_roots() -> list[Path]:
    """The workspace roots in HybridMCP's settings (MCP servers → Workspace roots)."""
    from hybridmcp_app.config.paths import AppPaths
    from hybridmcp_app.config.settings_store import SettingsStore

    settings, _report = SettingsStore(AppPaths.from_environment()).load()
    return list(settings.mcp.workspace_roots)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the workspace options, then let ``MCPServerBase.main`` pick the transport."""
    defaults = SizeLimits()
    parser = argparse.ArgumentParser(
        prog="python -m hybridmcp_app.mcp_servers.workspace", add_help=False,
        description="Workspace options (the transport options follow).",
    )  # fmt: skip
    parser.add_argument(
        "--root",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a workspace root (repeatable; default: the roots in HybridMCP's settings)",
    )
    parser.add_argument(
        "--backup-dir",
        type=Path,
        metavar="DIR",
        help="where backups go (default: .hybridmcp-workspace/backups in the root)",
    )
    parser.add_argument("--max-read-bytes", type=_positive, default=defaults.max_read_bytes)
    parser.add_argument("--max-write-bytes", type=_positive, default=defaults.max_write_bytes)
    parser.add_argument("--max-backup-bytes", type=_positive, default=defaults.max_backup_bytes)
    args, rest = parser.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        parser.print_help()
    limits = SizeLimits(args.max_read_bytes, args.max_write_bytes, args.max_backup_bytes)
    roots = args.root or _settings_roots()
    if not roots:
        print(f"workspace: {NO_ROOT}", file=sys.stderr)
        raise SystemExit(2)
    try:
        service = WorkspaceService(
            roots,
            limits=limits,
            backup_dir=args.backup_dir,
        )
    except WorkspaceError as error:
        print(f"workspace: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    WorkspaceServer(service).main(rest)


if __name__ == "__main__":
    main()
