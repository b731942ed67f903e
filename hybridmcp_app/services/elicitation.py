"""``ElicitationService``: answers a server's ``elicitation/create`` by asking the user through a
front end (the window's dialog, or a command line's fixed answer).

Form mode: the requested schema becomes a form (``elicitation_form``); a schema the spec does not
allow, or one that asks for a secret, is refused with a JSON-RPC error that says why, and the
user is not asked. The answer is checked against the schema before it is sent.
URL mode: the front end shows the server's name and the URL's domain and opens the browser only
once the user accepts. Only https URLs (http on this computer) are offered.
One question at a time: a second server's question waits for the first's answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import mcp.types as types
from pydantic import BaseModel, ConfigDict

from hybridmcp_app.services.elicitation_form import ElicitForm, SchemaRefused, form_of

log = logging.getLogger("hybridmcp.mcp.elicitation")
Action = Literal["accept", "decline", "cancel"]


class FormAnswer(BaseModel):
    """The user's answer to a form: ``content`` only with ``accept``."""

    model_config = ConfigDict(frozen=True)
    action: Action
    content: dict[str, Any] | None = None


class UrlRequest(BaseModel):
    """A server asks the user to visit a page (a sign-in, a payment): never fetched by the host."""

    model_config = ConfigDict(frozen=True)
    server: str
    message: str
    url: str
    domain: str
    elicitation_id: str | None = None


class ElicitationAsker(Protocol):
    """A front end that puts a server's question to the user."""

    async def ask_form(self, form: ElicitForm) -> FormAnswer:
        """Show the form (pre-filled with its defaults; ``form.errors`` checks an answer)."""
        ...

    async def ask_url(self, request: UrlRequest) -> Action:
        """Show the server, the message and the domain; open the browser only on accept."""
        ...


class DecliningAsker:
    """Declines every question: the default where no one can answer (a command line)."""

    async def ask_form(self, form: ElicitForm) -> FormAnswer:
        return FormAnswer(action="decline")

    async def ask_url(self, request: UrlRequest) -> Action:
        return "decline"


class DefaultsAsker:
    """Accepts a form as the server filled it in (its defaults), as pressing Accept on the
    window's form unchanged would; declines a form they do not complete, and every URL
    (``hybridmcp mcp --elicitation defaults``, conformance runs, scripts)."""

    async def ask_form(self, form: ElicitForm) -> FormAnswer:
        content = form.defaults()
        if form.errors(content):
            return FormAnswer(action="decline")
        return FormAnswer(action="accept", content=content)

    async def ask_url(self, request: UrlRequest) -> Action:
        return "decline"


def _error(message: str) -> types.ErrorData:
    return types.ErrorData(code=types.INVALID_PARAMS, message=message)


def url_request(server: str, params: types.ElicitRequestURLParams) -> UrlRequest:
    """The request as shown to the user; ``SchemaRefused`` for a URL the host will not open."""
    try:
        parts = urlsplit(params.url)
        host = parts.hostname or ""
    except ValueError as error:
        raise SchemaRefused(f"the URL cannot be read: {error}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise SchemaRefused("the URL must be an https address")
    if parts.scheme == "http" and not _loopback(host):
        raise SchemaRefused("the URL must be https (http only on this computer)")
    return UrlRequest(
        server=server,
        message=params.message,
        url=params.url,
        domain=host,  # as sent (an international name stays in its xn-- form: no look-alikes)
        elicitation_id=params.elicitation_id,
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ElicitationService:
    """The host's ``HostRequests.elicit`` handler, over one front end."""

    def __init__(self, asker: ElicitationAsker) -> None:
        self.asker = asker
        self._one_at_a_time = asyncio.Lock()
        self.pending_urls: dict[tuple[str, str], UrlRequest] = {}  # accepted, not yet complete

    async def elicit(
        self, server: str, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        """Ask the user; the server gets accept (with the checked content), decline or cancel,
        or an error saying why the host will not ask."""
        try:
            if isinstance(params, types.ElicitRequestURLParams):
                return await self._ask_url(url_request(server, params))
            form = form_of(server, params.message, params.requested_schema)
        except SchemaRefused as error:
            log.warning("%s: elicitation refused: %s", server, error)
            return _error(str(error))
        async with self._one_at_a_time:
            answer = await self.asker.ask_form(form)
        if answer.action != "accept":
            return types.ElicitResult(action=answer.action)
        content = {k: v for k, v in (answer.content or {}).items() if v is not None}
        problems = form.errors(content)
        if problems:
            said = "; ".join(f"{name or 'the answer'}: {why}" for name, why in problems.items())
            log.warning("%s: the answer did not match the form (%s)", server, said)
            return types.ErrorData(
                code=types.INTERNAL_ERROR, message=f"the answer did not match the form: {said}"
            )
        return types.ElicitResult(action="accept", content=content)

    async def _ask_url(self, request: UrlRequest) -> types.ElicitResult:
        async with self._one_at_a_time:
            action = await self.asker.ask_url(request)
        if action == "accept" and request.elicitation_id is not None:
            self.pending_urls[(request.server, request.elicitation_id)] = request
        return types.ElicitResult(action=action)

    def completed(self, server: str, elicitation_id: str) -> None:
        """The host's ``HostRequests.elicit_complete``: a server says a URL elicitation is done."""
        request = self.pending_urls.pop((server, elicitation_id), None)
        if request is not None:
            log.info("%s: the page on %s is done (%s)", server, request.domain, elicitation_id)
