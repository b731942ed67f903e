"""``ElicitationService`` over a scripted front end: what reaches the user, and what the server
gets back."""

from __future__ import annotations

import asyncio
from typing import Any

import mcp.types as types

from hybridmcp_app.services.elicitation import (
    DecliningAsker,
    DefaultsAsker,
    ElicitationService,
    FormAnswer,
)
from hybridmcp_app.services.elicitation_form import ElicitForm
from tests.helpers.elicit_server import BOOKING_SCHEMA, KEY_SCHEMA
from tests.helpers.scripted_asker import ScriptedAsker
from tests.helpers.waiting import wait_until


def form(schema: dict[str, Any]) -> types.ElicitRequestFormParams:
    return types.ElicitRequestFormParams(message="Book a table?", requested_schema=schema)


def url(address: str) -> types.ElicitRequestURLParams:
    return types.ElicitRequestURLParams(message="Sign in", url=address, elicitation_id="e1")


GOOD: dict[str, Any] = {
    "name": "Grace",
    "email": "grace@example.org",
    "guests": 3,
    "diet": ["nuts"],
}


async def test_an_accepted_form_sends_the_checked_content_to_the_server() -> None:
    asker = ScriptedAsker(FormAnswer(action="accept", content={**GOOD, "budget": None}))
    result = await ElicitationService(asker).elicit("diner", form(BOOKING_SCHEMA))
    assert result == types.ElicitResult(action="accept", content=GOOD)
    assert (asker.forms[0].server, asker.forms[0].message) == ("diner", "Book a table?")


async def test_decline_and_cancel_reach_the_server_without_content() -> None:
    for action in ("decline", "cancel"):
        asker = ScriptedAsker(FormAnswer(action=action, content=GOOD))
        result = await ElicitationService(asker).elicit("diner", form(BOOKING_SCHEMA))
        assert result == types.ElicitResult(action=action)


async def test_an_answer_that_does_not_match_the_schema_is_not_sent() -> None:
    asker = ScriptedAsker(FormAnswer(action="accept", content={**GOOD, "guests": 40}))
    result = await ElicitationService(asker).elicit("diner", form(BOOKING_SCHEMA))
    assert isinstance(result, types.ErrorData)
    assert result.message == "the answer did not match the form: guests: at most 8"


async def test_a_form_asking_for_a_secret_is_refused_without_asking_the_user() -> None:
    asker = ScriptedAsker(FormAnswer(action="accept", content={"api_key": "sk-1"}))
    result = await ElicitationService(asker).elicit("keys", form(KEY_SCHEMA))
    assert isinstance(result, types.ErrorData) and result.code == types.INVALID_PARAMS
    assert "field 'api_key' asks for a secret" in result.message
    assert asker.forms == []


async def test_a_url_request_shows_the_domain_and_remembers_it_until_complete() -> None:
    asker = ScriptedAsker(url_action="accept")
    service = ElicitationService(asker)
    result = await service.elicit("shop", url("https://login.example.com/start?next=x"))
    assert result == types.ElicitResult(action="accept")
    assert (asker.urls[0].server, asker.urls[0].domain) == ("shop", "login.example.com")
    assert set(service.pending_urls) == {("shop", "e1")}
    service.completed("shop", "e1")
    assert service.pending_urls == {}


async def test_a_url_whose_user_part_mimics_a_domain_shows_the_real_one() -> None:
    asker = ScriptedAsker(url_action="decline")
    result = await ElicitationService(asker).elicit("shop", url("https://bank.com@evil.example/"))
    assert result == types.ElicitResult(action="decline")
    assert asker.urls[0].domain == "evil.example"


async def test_urls_the_host_will_not_open_are_refused_without_asking() -> None:
    asker = ScriptedAsker()
    service = ElicitationService(asker)
    for address in ("file:///etc/passwd", "javascript:alert(1)", "http://example.com/"):
        result = await service.elicit("shop", url(address))
        assert isinstance(result, types.ErrorData), address
    assert asker.urls == []
    assert await service.elicit("dev", url("http://127.0.0.1:8000/cb")) == types.ElicitResult(
        action="accept"
    )


async def test_the_command_line_askers_decline_or_accept_the_defaults() -> None:
    declined = await ElicitationService(DecliningAsker()).elicit("diner", form(BOOKING_SCHEMA))
    assert declined == types.ElicitResult(action="decline")
    defaults = {"type": "object", "properties": {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "verified": {"type": "boolean", "default": True},
    }}  # fmt: skip
    accepted = await ElicitationService(DefaultsAsker()).elicit("conformance", form(defaults))
    assert accepted == types.ElicitResult(
        action="accept", content={"name": "John Doe", "age": 30, "verified": True}
    )
    assert await ElicitationService(DefaultsAsker()).elicit("s", url("https://a.example/")) == (
        types.ElicitResult(action="decline")
    )


async def test_a_second_question_waits_until_the_first_is_answered() -> None:
    release = asyncio.Event()
    open_now: list[str] = []
    most_open = 0

    class SlowAsker(ScriptedAsker):
        async def ask_form(self, form: ElicitForm) -> FormAnswer:
            nonlocal most_open
            open_now.append(form.server)
            most_open = max(most_open, len(open_now))
            await release.wait()
            open_now.remove(form.server)
            return FormAnswer(action="decline")

    service = ElicitationService(SlowAsker())
    both = asyncio.gather(
        service.elicit("a", form(BOOKING_SCHEMA)), service.elicit("b", form(BOOKING_SCHEMA))
    )
    await wait_until(lambda: bool(open_now))
    release.set()
    assert list(await both) == [types.ElicitResult(action="decline")] * 2
    assert most_open == 1
