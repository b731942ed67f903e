"""The ``storage`` MCP server: files and objects on named mounts — local disk, memory, S3 (and
S3-compatible), Azure Blob, GCS — through one set of tools.

    python -m hybridmcp_app.mcp_servers.storage --mount NAME=URL [--mount ...]
        [--option NAME.KEY=VALUE ...] [--max-read-bytes N] [--max-write-bytes N]
        [--http [--host 127.0.0.1] [--port N]]

``--option docs.endpoint_url=http://127.0.0.1:9000`` passes an fsspec option to one mount
(values that parse as JSON become numbers, booleans…). Credentials come from the backends' own
environment variables (``AWS_ACCESS_KEY_ID``, ``AZURE_STORAGE_CONNECTION_STRING``,
``GOOGLE_APPLICATION_CREDENTIALS``…), which an mcp.json entry fills from the keychain with
``${secret:NAME}``. With no ``--mount``, the current folder is the mount ``files``.

No ``from __future__ import annotations`` here: the SDK reads the tools' signatures with
``eval_str`` (as in ``workspace``).
"""

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.datastores.object_storage import (
    Entry,
    Mount,
    ObjectStorage,
    StorageError,
    parse_mount,
)
from hybridmcp_app.mcp_host.mcp_server_base import (
    READS,
    MCPServerBase,
    answer_or_refuse,
    tool_hints,
)

T = TypeVar("T")
WRITES = tool_hints(read_only=False, destructive=True, idempotent=True)
COPIES = tool_hints(read_only=False, destructive=True, idempotent=True)  # may overwrite
MOVES = tool_hints(read_only=False, destructive=True, idempotent=False)
StoragePath = Annotated[
    str, Field(min_length=2, max_length=1024, description="mount:relative/path, e.g. docs:a/b.txt")
]


class Listing(FrozenModel):
    entries: list[Entry]


class TextContent(FrozenModel):
    path: str
    text: str
    bytes: int


class BinaryContent(FrozenModel):
    path: str
    base64: str
    bytes: int


class Written(FrozenModel):
    path: str
    bytes: int


class Copied(FrozenModel):
    source: str
    target: str
    bytes: int


class Deleted(FrozenModel):
    path: str


class Signed(FrozenModel):
    url: str
    expires_s: int


class MountList(FrozenModel):
    mounts: list[Mount]


async def _answer(call: Awaitable[T]) -> T:
    return await answer_or_refuse(call, StorageError)


class StorageServer(MCPServerBase):
    """``ObjectStorage``'s operations as MCP tools."""

    name = "storage"

    def __init__(self, storage: ObjectStorage) -> None:
        self.storage = storage

    def build(self) -> MCPServer:
        storage = self.storage
        names = ", ".join(f"{m.name} ({m.url})" for m in storage.mounts.values())
        server = MCPServer(
            self.name,
            instructions=f"Files and objects on the mounts {names}. Paths are "
            "mount:relative/path. Reads up to "
            f"{storage.max_read_bytes:,} bytes; copy and move stream any size across mounts.",
        )

        @server.tool(annotations=READS)
        async def mounts() -> MountList:
            """The mounts and their URLs (options not shown: they may hold settings only)."""
            return MountList(
                mounts=[Mount(name=m.name, url=m.url) for m in storage.mounts.values()]
            )

        @server.tool(name="list", annotations=READS)
        async def list_entries(
            path: StoragePath, limit: Annotated[int, Field(ge=1, le=10_000)] = 1000
        ) -> Listing:
            """The files and folders directly under a folder or prefix ("docs:" for a root)."""
            return Listing(entries=await _answer(storage.list(path, limit)))

        @server.tool(annotations=READS)
        async def stat(path: StoragePath) -> Entry:
            """Size, kind and modification time of one file or object."""
            return await _answer(storage.stat(path))

        @server.tool(annotations=READS)
        async def read_text(path: StoragePath) -> TextContent:
            """A UTF-8 text file (bytes that are not UTF-8 show as U+FFFD)."""
            data = await _answer(storage.read_bytes(path))
            return TextContent(path=path, text=data.decode("utf-8", "replace"), bytes=len(data))

        @server.tool(annotations=READS)
        async def read_bytes(path: StoragePath) -> BinaryContent:
            """A file's bytes, base64-encoded."""
            data = await _answer(storage.read_bytes(path))
            encoded = base64.b64encode(data).decode()
            return BinaryContent(path=path, base64=encoded, bytes=len(data))

        @server.tool(annotations=WRITES)
        async def write(
            path: StoragePath,
            content: Annotated[str, Field(description="The text, or base64 bytes.")],
            encoding: Literal["text", "base64"] = "text",
        ) -> Written:
            """Create or replace a file or object (folders are made as needed)."""
            if encoding == "base64":
                try:
                    data = base64.b64decode(content, validate=True)
                except binascii.Error:
                    raise ToolError("content is not valid base64") from None
            else:
                data = content.encode()
            return Written(path=path, bytes=await _answer(storage.write_bytes(path, data)))

        @server.tool(annotations=WRITES)
        async def delete(path: StoragePath, recursive: bool = False) -> Deleted:
            """Delete a file or object (a folder with recursive=true)."""
            await _answer(storage.delete(path, recursive))
            return Deleted(path=path)

        @server.tool(annotations=COPIES)
        async def copy(source: StoragePath, target: StoragePath) -> Copied:
            """Copy one file or object, within a mount or across mounts (e.g. S3 → Azure),
            streamed: any size."""
            copied = await _answer(storage.copy(source, target))
            return Copied(source=source, target=target, bytes=copied)

        @server.tool(annotations=MOVES)
        async def move(source: StoragePath, target: StoragePath) -> Copied:
            """Copy, then delete the source."""
            moved = await _answer(storage.copy(source, target, move=True))
            return Copied(source=source, target=target, bytes=moved)

        @server.tool(annotations=READS)
        async def presign(
            path: StoragePath, expires_s: Annotated[int, Field(ge=60, le=7 * 86400)] = 3600
        ) -> Signed:
            """A time-limited URL to the object, where the backend can sign one (S3, GCS,
            Azure)."""
            return Signed(url=await _answer(storage.presign(path, expires_s)), expires_s=expires_s)

        return server


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of bytes")
    return value


def mounts_from(specs: Sequence[str], options: Sequence[str]) -> list[Mount]:
    """``name=URL`` mounts with ``name.key=value`` options."""
    found = [parse_mount(spec) for spec in specs] or [Mount(name="files", url=Path.cwd().as_uri())]
    extra: dict[str, dict[str, object]] = {}
    for option in options:
        target, separator, value = option.partition("=")
        name, dot, key = target.partition(".")
        if not separator or not dot or not key:
            raise StorageError(f"{option!r}: give an option as mount.key=value")
        try:
            parsed: object = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        extra.setdefault(name, {})[key] = parsed
    unknown = set(extra) - {mount.name for mount in found}
    if unknown:
        raise StorageError(f"options for unknown mounts: {', '.join(sorted(unknown))}")
    return [
        mount.model_copy(update={"options": {**mount.options, **extra.get(mount.name, {})}})
        for mount in found
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmcp_app.mcp_servers.storage", add_help=False,
        description="Storage options (the transport options follow).",
    )  # fmt: skip
    parser.add_argument("--mount", action="append", default=[], metavar="NAME=URL")
    parser.add_argument("--option", action="append", default=[], metavar="NAME.KEY=VALUE")
    parser.add_argument("--max-read-bytes", type=_positive, default=None)
    parser.add_argument("--max-write-bytes", type=_positive, default=None)
    args, rest = parser.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        parser.print_help()
    limits = {key: value for key, value in (("max_read_bytes", args.max_read_bytes),
              ("max_write_bytes", args.max_write_bytes)) if value is not None}  # fmt: skip
    try:
        storage = ObjectStorage(mounts_from(args.mount, args.option), **limits)
    except (StorageError, ValueError) as error:
        print(f"storage: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    StorageServer(storage).main(rest)


if __name__ == "__main__":
    main()
