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
import asyncio
import base64
import binascii
import importlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from hybridmcp_app.config.storage_settings import StorageSettings
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.datastores.object_storage import (
    Entry,
    Mount,
    ObjectStorage,
    StorageError,
    parse_mount,
)
from hybridmcp_app.datastores.storage_fetch import Fetched, fetch_to_folder
from hybridmcp_app.datastores.storage_uploads import UploadSessions
from hybridmcp_app.documents.catalog_results import AddResult, CatalogError
from hybridmcp_app.mcp_servers.server_base import (
    READS,
    MCPServerBase,
    answer_or_refuse,
    tool_hints,
)

if TYPE_CHECKING:  # the documents server imports the parsers (PyMuPDF, ONNX): only when asked
    from hybridmcp_app.mcp_servers.documents import Catalog, CatalogSource

T = TypeVar("T")
WRITES = tool_hints(read_only=False, destructive=True, idempotent=True)
COPIES = tool_hints(read_only=False, destructive=True, idempotent=True)  # may overwrite
MOVES = tool_hints(read_only=False, destructive=True, idempotent=False)
UPLOADS = tool_hints(read_only=False, destructive=False, idempotent=False)  # to a pending upload
ABORTS = tool_hints(read_only=False, destructive=False, idempotent=True)
INDEXES = tool_hints(read_only=False, destructive=False, idempotent=True)
IMPORTS_FOLDER = "storage-imports"
DOCUMENTS_SERVER = "hybridmcp_app.mcp_servers.documents"
MEGABYTE = 1024 * 1024
UploadId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", description="From upload_begin.")]
StoragePath = Annotated[
    str, Field(min_length=2, max_length=1024, description="mount:relative/path, e.g. docs:a/b.txt")
]


class Listing(FrozenModel):
    entries: list[Entry]


class TextFile(FrozenModel):
    path: str
    text: str
    bytes: int


class BinaryContent(FrozenModel):
    path: str
    base64: str
    bytes: int
    offset: int = Field(description="Where these bytes start in the object.")
    size: int = Field(description="The whole object's size.")


class UploadStarted(FrozenModel):
    upload_id: str
    path: str
    part_limit: int = Field(description="The most bytes one part may carry.")


class UploadProgress(FrozenModel):
    upload_id: str
    written: int = Field(description="Bytes written so far: the offset of the next part.")


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


class Indexed(FrozenModel):
    fetched: Fetched = Field(description="What came down from the mount.")
    library: AddResult = Field(description="What the library made of it.")


class LibraryTarget:
    """Where ``index_into_library`` puts objects and which library indexes them: by default
    HybridMCP's own (its data folder's ``storage-imports``, its settings' file kinds, and the
    documents server's way in — opening the library, or relaying to the app that has it)."""

    def __init__(
        self,
        folder: Path | None = None,
        extensions: Sequence[str] | None = None,
        catalog: "CatalogSource | None" = None,
    ) -> None:
        self._folder, self._extensions, self._catalog = folder, extensions, catalog

    async def ready(self) -> tuple[Path, Sequence[str], "Catalog"]:
        documents = await asyncio.to_thread(importlib.import_module, DOCUMENTS_SERVER)
        if self._folder is None or self._extensions is None:
            data_dir, settings = await asyncio.to_thread(documents.app_data_and_settings)
            self._folder = self._folder or data_dir / IMPORTS_FOLDER
            self._extensions = self._extensions or settings.extensions
        if self._catalog is None:
            self._catalog = documents.LibraryOpener()
        catalog = await answer_or_refuse(self._catalog(), CatalogError)
        return self._folder, self._extensions, catalog


async def _answer(call: Awaitable[T]) -> T:
    return await answer_or_refuse(call, StorageError)


class StorageServer(MCPServerBase):
    """``ObjectStorage``'s operations as MCP tools."""

    name = "storage"

    def __init__(
        self,
        storage: ObjectStorage,
        library: LibraryTarget | None = None,
        uploads: UploadSessions | None = None,
    ) -> None:
        self.storage = storage
        self.uploads = uploads or UploadSessions(storage)
        self.library = library or LibraryTarget()

    def build(self) -> MCPServer:
        storage, uploads, library = self.storage, self.uploads, self.library
        names = ", ".join(f"{m.name} ({m.url})" for m in storage.mounts.values())

        @asynccontextmanager
        async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
            try:
                yield
            finally:  # an unfinished upload must not complete when its writer is collected
                await uploads.close()

        server = MCPServer(
            self.name,
            lifespan=lifespan,
            instructions=f"Files and objects on the mounts {names}. Paths are "
            "mount:relative/path. Reads up to "
            f"{storage.max_read_bytes:,} bytes; copy and move stream any size across mounts.",
        )

        @server.tool(annotations=READS)
        async def mounts() -> MountList:
            """The mounts and their URLs (options not shown: they may hold settings only)."""
            return MountList(mounts=[Mount(name=m.name, url=m.url, unavailable=m.unavailable)
                                     for m in storage.mounts.values()])  # fmt: skip

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
        async def read_text(path: StoragePath) -> TextFile:
            """A UTF-8 text file (bytes that are not UTF-8 show as U+FFFD)."""
            data = await _answer(storage.read_bytes(path))
            return TextFile(path=path, text=data.decode("utf-8", "replace"), bytes=len(data))

        @server.tool(annotations=READS)
        async def read_bytes(
            path: StoragePath,
            offset: Annotated[int, Field(ge=0)] = 0,
            length: Annotated[int | None, Field(ge=0)] = None,
        ) -> Annotated[CallToolResult, BinaryContent]:
            """A file's bytes, base64-encoded (in the structured result): all of it, or
            ``length`` bytes from ``offset`` (a large object is read in parts; ``size`` says
            how far to go)."""
            ranged = await _answer(storage.read_range(path, offset, length))
            content = BinaryContent(
                path=path, base64=base64.b64encode(ranged.data).decode(),
                bytes=len(ranged.data), offset=ranged.offset, size=ranged.size,
            )  # fmt: skip
            # The bytes go once, as structured content: echoing megabytes of base64 as text
            # too would double what every client must read, and no model reads it.
            summary = (f"{content.bytes:,} bytes of {path} from offset {content.offset:,} "
                       f"(of {content.size:,}), base64 in the structured result")  # fmt: skip
            return CallToolResult(
                content=[TextContent(type="text", text=summary)],
                structured_content=content.model_dump(mode="json"),
            )

        @server.tool(annotations=WRITES)
        async def write(
            path: StoragePath,
            content: Annotated[str, Field(description="The text, or base64 bytes.")],
            encoding: Literal["text", "base64"] = "text",
        ) -> Written:
            """Create or replace a file or object (folders are made as needed)."""
            data = _base64(content) if encoding == "base64" else content.encode()
            return Written(path=path, bytes=await _answer(storage.write_bytes(path, data)))

        @server.tool(annotations=WRITES)
        async def upload_begin(path: StoragePath) -> UploadStarted:
            """Start writing a large object in parts (upload_part, then upload_finish); nothing
            appears at the path until it finishes."""
            upload_id = await _answer(uploads.begin(path))
            return UploadStarted(upload_id=upload_id, path=path, part_limit=storage.max_write_bytes)

        @server.tool(annotations=UPLOADS)
        async def upload_part(
            upload_id: UploadId,
            content: Annotated[str, Field(description="The part's bytes, base64.")],
            offset: Annotated[int, Field(ge=0, description="Bytes sent before this part.")],
        ) -> UploadProgress:
            """Send a part of an upload (each up to part_limit bytes). Parts are applied in
            offset order; a few may be sent at once, each waiting for the one before it."""
            data = _base64(content)
            written = await _answer(uploads.append(upload_id, data, offset))
            return UploadProgress(upload_id=upload_id, written=written)

        @server.tool(annotations=WRITES)
        async def upload_finish(upload_id: UploadId) -> Written:
            """Complete an upload: the object appears at its path (replacing what was there)."""
            path, size = await _answer(uploads.finish(upload_id))
            return Written(path=path, bytes=size)

        @server.tool(annotations=ABORTS)
        async def upload_abort(upload_id: UploadId) -> UploadProgress:
            """Drop an unfinished upload; the path is left as it was."""
            await _answer(uploads.abort(upload_id))
            return UploadProgress(upload_id=upload_id, written=0)

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

        @server.tool(annotations=INDEXES)
        async def index_into_library(path: StoragePath) -> Indexed:
            """Add an object, or every document under a folder/prefix, to HybridMCP's document
            library: copied to a local mirror (only the kinds the library indexes; unchanged
            ones are not downloaded again), then indexed for search with citations."""
            folder, extensions, catalog = await library.ready()
            fetched = await _answer(fetch_to_folder(storage, path, folder, extensions=extensions))
            target = Path(fetched.folder)
            relative = path.partition(":")[2].strip("/")
            if relative:
                target = target.joinpath(*relative.split("/"))
            if not target.exists():
                raise ToolError(f"{path}: nothing the library indexes was found there")
            added = await answer_or_refuse(catalog.add_path(str(target)), CatalogError)
            return Indexed(fetched=fetched, library=added)

        @server.tool(annotations=READS)
        async def presign(
            path: StoragePath, expires_s: Annotated[int, Field(ge=60, le=7 * 86400)] = 3600
        ) -> Signed:
            """A time-limited URL to the object, where the backend can sign one (S3, GCS,
            Azure)."""
            return Signed(url=await _answer(storage.presign(path, expires_s)), expires_s=expires_s)

        return server


def _base64(content: str) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except binascii.Error:
        raise ToolError("content is not valid base64") from None


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of bytes")
    return value


def mounts_from(
    specs: Sequence[str], options: Sequence[str], configured: Sequence[Mount] = ()
) -> list[Mount]:
    """``name=URL`` mounts with ``name.key=value`` options; without any, the ``configured``
    ones (HybridMCP's settings), else the current folder as ``files``."""
    found = (
        [parse_mount(spec) for spec in specs]
        or list(configured)
        or [Mount(name="files", url=Path.cwd().as_uri())]
    )
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


def _storage_settings() -> StorageSettings:
    """HybridMCP's storage settings (Settings → Storage)."""
    from hybridmcp_app.config.paths import AppPaths
    from hybridmcp_app.config.settings_store import SettingsStore

    settings, _report = SettingsStore(AppPaths.from_environment()).load()
    return settings.storage


def _configured_mounts(settings: StorageSettings) -> list[Mount]:
    """The settings' mounts, credentials from the keychain (looked up only when there are any)."""
    if not settings.mounts:
        return []
    from hybridmcp_app.config.secrets import SecretStore, system_keychain
    from hybridmcp_app.datastores.storage_mounts import mounts_from_settings

    return mounts_from_settings(settings, SecretStore(*system_keychain()))


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
    settings = _storage_settings()
    configured = [] if args.mount else _configured_mounts(settings)
    try:
        storage = ObjectStorage(
            mounts_from(args.mount, args.option, configured),
            max_read_bytes=args.max_read_bytes or settings.max_read_mb * MEGABYTE,
            max_write_bytes=args.max_write_bytes or settings.max_write_mb * MEGABYTE,
        )
    except (StorageError, ValueError) as error:
        print(f"storage: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    StorageServer(storage).main(rest)


if __name__ == "__main__":
    main()
