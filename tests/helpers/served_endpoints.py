"""The HTTP endpoints the running app serves, for the tests of what they let in: the library it
shares (``app_startup.share_library``, real uvicorn in the test's loop) and the local API
(``serving``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybridmcp_app.api_server.api_serving import serving
from hybridmcp_app.api_server.openai_api import OpenAIApi
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.mcp_servers.documents_sharing import read_endpoint
from hybridmcp_app.services.app_services import AppServices, build_services
from hybridmcp_app.services.app_startup import share_library
from hybridmcp_app.services.turn_runner import ChatEvent, Turn
from tests.helpers.waiting import PATIENCE_S, wait_until

if TYPE_CHECKING:
    from hybridmcp_app.mcp_servers.sharing_endpoint import DocumentsEndpoint

NO_KEYCHAIN = KeychainStatus(False, "none", "no keychain in this test")


@contextlib.asynccontextmanager
async def app_context(paths: AppPaths, model_cache: Path) -> AsyncIterator[AppServices]:
    """The app's services (no window) in the test's loop, with no keychain."""
    secrets = SecretStore(None, NO_KEYCHAIN)
    loop = asyncio.get_running_loop()
    context = build_services(paths, loop, verbose=False, secrets=secrets, model_cache=model_cache)
    try:
        yield context
    finally:
        await context.close(PATIENCE_S)
        context.local_model.close_now(timeout_s=PATIENCE_S)


@contextlib.asynccontextmanager
async def app_sharing(
    context: AppServices,
    library: LibraryService | None,
    on_problem: Callable[[str], None] = lambda _message: None,
) -> AsyncIterator[DocumentsEndpoint]:
    """``app_startup.share_library`` running over ``library`` (None: one that did not open); yields
    the endpoint it advertises."""
    source = AppLibrarySource()
    source.opened(library, None if library else "not opened in this test")
    sharing = asyncio.create_task(share_library(context, source, on_problem))
    data_dir = context.paths.data_dir
    try:
        await wait_until(lambda: read_endpoint(data_dir) is not None or sharing.done())
        if sharing.done():
            sharing.result()
            raise AssertionError("the library was not shared")
        endpoint = read_endpoint(data_dir)
        assert endpoint is not None
        yield endpoint
    finally:
        sharing.cancel()
        await asyncio.gather(sharing, return_exceptions=True)


@contextlib.asynccontextmanager
async def shared_library(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """(URL, token) of the library the app shares without a keychain."""
    paths = AppPaths.under(tmp_path / "sharing-app").ensure()
    async with (
        app_context(paths, tmp_path / "model-cache") as context,
        app_sharing(context, None) as endpoint,
    ):
        assert endpoint.token is not None
        yield endpoint.url, endpoint.token


class NeverRuns:
    """Turns for an API that must refuse every request before running one."""

    def provider_names(self) -> list[str]:
        return ["lab"]

    async def run(self, turn: Turn) -> AsyncGenerator[ChatEvent, None]:
        raise AssertionError(f"{turn.strategy} was run: the request should have been refused")
        yield  # pragma: no cover


@contextlib.asynccontextmanager
async def api_url(token: str) -> AsyncIterator[str]:
    """The local API's base URL (``…/v1``) on 127.0.0.1, for requests it must refuse (no model
    behind it)."""
    api = OpenAIApi(token, NeverRuns())
    async with serving(api) as port:
        yield f"http://127.0.0.1:{port}/v1"
