"""The local API as the app serves it: over the app's ``TurnRunner``, so API runs count in
the Savings tab like the window's."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable

from hybridmcp_app.services.app_services import AppServices

log = logging.getLogger("hybridmcp.app")


async def serve_api(
    services: AppServices, on_problem: Callable[[str], None] = lambda _message: None
) -> None:
    """The local OpenAI-compatible API while the app runs, when Settings → Local API has it on
    (127.0.0.1; requests need the keychain's ``api-server-token``). ``on_problem`` hears why
    it could not start (the port is taken, no keychain)."""
    settings = services.settings.api
    if not settings.enabled:
        return
    openai_api = await asyncio.to_thread(
        importlib.import_module, "hybridmcp_app.api_server.openai_api"
    )
    from hybridmcp_app.api_server import TOKEN_SECRET_NAME
    from hybridmcp_app.api_server.api_serving import serving
    from hybridmcp_app.config.server_token import ensure_server_token
    from hybridmcp_app.core.errors import SecretStoreError

    try:
        token = await asyncio.to_thread(ensure_server_token, services.secrets, TOKEN_SECRET_NAME)
    except SecretStoreError as error:
        log.error("the local API is off: it needs its token in the keychain (%s)", error)
        on_problem(f"The local API is off: it needs its token in the keychain ({error}).")
        return
    api = openai_api.OpenAIApi(token, services.turns)
    try:
        async with serving(api, port=settings.port) as port:
            log.info("local OpenAI-compatible API on http://127.0.0.1:%d/v1", port)
            await asyncio.Event().wait()  # until the app quits (the task is cancelled)
    except OSError as error:
        log.error("the local API could not listen on 127.0.0.1:%d: %s", settings.port, error)
        reason = error.strerror or str(error)
        on_problem(
            f"The local API could not listen on 127.0.0.1:{settings.port} ({reason}). Pick "
            "another port in Settings → Local API."
        )
