"""Starting the app's services after the window shows (or without one): the keychain, the
MCP host, the library and its sharing with other MCP clients — each imported off the event loop
and each on its own, so one that cannot start says why and leaves the others running."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app.config.secrets import system_keychain
from hybridmcp_app.services.app_services import AppServices

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from hybridmcp_app.documents.app_library_source import AppLibrarySource
    from hybridmcp_app.documents.library_indexer import IndexProgress
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.mcp_host.host_requests import HostRequests
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost

log = logging.getLogger("hybridmcp.app")


async def detect_keychain(services: AppServices, on_done: Callable[[], None]) -> None:
    """Find the system keychain off the event loop, then hand it to the store."""
    if services.settings.secrets.backend != "system":
        return
    backend, status = await asyncio.to_thread(system_keychain)
    services.secrets.use_backend(backend, status)
    on_done()


def build_mcp_host(
    services: AppServices,
    requests: HostRequests | None = None,
    in_process: dict[str, Callable[[], MCPServer]] | None = None,
) -> McpHost:
    """The MCP host over ``services``' mcp.json (with the built-in servers), keychain, log folder
    and timeouts; every front end builds it here (imports the MCP SDK: call it off the event
    loop, or where that does not matter)."""
    from hybridmcp_app.config.mcp_json_file import McpJsonFile
    from hybridmcp_app.config.mcp_references import resolved_server
    from hybridmcp_app.mcp_host.builtin_servers import builtin_entries
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.mcp_host.server_status import RestartPolicy
    from hybridmcp_app.services.mcp_requests import announce_roots_changes

    settings, secrets, environ = services.settings.mcp, services.secrets, dict(os.environ)
    host = McpHost(
        McpJsonFile(services.mcp_config_file, builtin_entries()),
        services.paths.log_dir / "mcp",
        resolve=lambda name, config: resolved_server(name, config, secrets, environ),
        policy=RestartPolicy(
            connect_timeout_s=settings.init_timeout_s, request_timeout_s=settings.call_timeout_s
        ),
        in_process=in_process or {},
        requests=requests,
    )
    announce_roots_changes(host)  # a server hears when its granted folders change
    return host


async def start_mcp_host(
    services: AppServices,
    on_ready: Callable[[McpHost], None],
    library_source: AppLibrarySource | None = None,
    host_requests: Callable[[], HostRequests] | None = None,
) -> McpHost:
    """Import the MCP SDK (and the documents server: PyMuPDF, ONNX Runtime) off the event loop
    (about a second), build the host over mcp.json, hand it to the UI, then start the enabled
    servers (in parallel; this returns at once). ``host_requests`` builds, once the SDK is
    imported, what every server may ask of the front end (elicitation…). An mcp.json that
    cannot be used (broken, too big, nested too deep) leaves a host with no servers that shows
    why."""
    await asyncio.to_thread(importlib.import_module, "hybridmcp_app.mcp_host.mcp_host_service")
    in_process = {}
    if library_source is not None:  # the app owns the library: it serves documents itself
        from hybridmcp_app.mcp_host.builtin_servers import DOCUMENTS_MODULE

        documents = await asyncio.to_thread(importlib.import_module, DOCUMENTS_MODULE)
        in_process[DOCUMENTS_MODULE] = documents.DocumentsServer(library_source).build
    requests = host_requests() if host_requests is not None else None
    host = build_mcp_host(services, requests, in_process)
    services.mcp_host = host
    on_ready(host)
    if services.settings.mcp.start_servers_on_launch:
        await host.start()
    return host


async def start_library(
    services: AppServices,
    on_ready: Callable[[LibraryService | None, str | None], None],
    progress: Callable[[IndexProgress], None] | None = None,
) -> LibraryService | None:
    """Import chromadb off the event loop (a second or two), open the library, hand it to the
    UI (or say why it could not open), finish what an earlier run left, then follow the
    watched folders until the app quits."""
    from hybridmcp_app.core.errors import HybridMCPError

    module = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.documents.library_service"
    )
    from hybridmcp_app.documents.folder_watcher import FolderWatcher

    try:
        library: LibraryService = await module.LibraryService.open(
            services.settings.documents,
            services.paths.data_dir,
            await asyncio.to_thread(services.embedder),
        )
    except HybridMCPError as error:
        log.warning("the library could not open: %s", error)
        on_ready(None, str(error))
        return None
    services.library = library

    def save_folders(folders: tuple[Path, ...]) -> None:
        documents = services.settings.documents.model_copy(update={"watch_folders": folders})
        services.save_settings(services.settings.model_copy(update={"documents": documents}))

    services.watcher = FolderWatcher(
        library,
        services.settings.documents.watch_folders,
        save=save_folders,
        progress=progress,
        ignore=[services.paths.data_dir, services.paths.log_dir, services.paths.cache_dir],
    )
    on_ready(library, None)
    try:
        await library.resume(progress)
    except HybridMCPError as error:
        log.warning("the library could not finish its last run: %s", error)
    services.tasks.spawn(services.watcher.run(), name="watch-library-folders")
    return library


async def share_library(
    services: AppServices,
    library_source: AppLibrarySource,
    on_problem: Callable[[str], None] = lambda _message: None,
) -> None:
    """Let other MCP clients' documents servers use the library while the app owns it
    (``mcp_servers.documents_sharing``): served on 127.0.0.1 until the app quits, behind a token
    made for this run and kept only in the private endpoint file (not the keychain's long-lived
    server token, which remote clients hold). ``on_problem`` hears why the library is not
    shared."""
    if not services.settings.mcp.share_library:
        return
    module = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.mcp_servers.documents_sharing"
    )
    documents = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.mcp_servers.documents"
    )
    from hybridmcp_app.core.errors import HybridMCPError

    server = documents.DocumentsServer(library_source)
    try:
        await module.share_library(server, services.paths.data_dir)
    except (HybridMCPError, OSError) as error:
        log.warning("the library is not shared with other MCP clients: %s", error)
        on_problem(f"The library is not shared with other MCP clients: {error}")
