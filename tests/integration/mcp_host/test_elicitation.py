"""A real MCP server (tests/helpers/elicit_server.py, a subprocess over stdio) asks the user
through the host: the host advertises elicitation, the question reaches the front end, and the
server gets the answer — or the host's refusal."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.mcp_host.host_requests import HostRequests
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.mcp_host.server_supervisor import ServerSupervisor
from hybridmcp_app.services.elicitation import ElicitationService, FormAnswer
from tests.helpers.scripted_asker import ScriptedAsker
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import FAST, REPO

ELICIT_SERVER = StdioServerConfig(
    command=sys.executable, args=("-m", "tests.helpers.elicit_server"), cwd=REPO
)


@pytest.fixture
async def asked(tmp_path: Path) -> AsyncIterator[tuple[ServerSupervisor, ScriptedAsker]]:
    """The elicit server, supervised with the host's elicitation over a scripted front end."""
    asker = ScriptedAsker()
    service = ElicitationService(asker)
    requests = HostRequests(elicit=service.elicit, elicit_complete=service.completed)
    supervisor = ServerSupervisor(
        "diner", lambda: ELICIT_SERVER, tmp_path / "diner.log", FAST, requests=requests
    )
    supervisor.start()
    await wait_until(lambda: supervisor.status.state is ServerState.READY)
    yield supervisor, asker
    await supervisor.stop()


async def test_a_servers_form_reaches_the_user_and_the_accepted_answer_reaches_the_server(
    asked: tuple[ServerSupervisor, ScriptedAsker],
) -> None:
    supervisor, asker = asked
    content = {"name": "Grace", "email": "grace@example.org", "guests": 3, "room": "cellar",
               "diet": ["vegan", "nuts"], "terrace": True}  # fmt: skip
    asker.answer = FormAnswer(action="accept", content=content)
    outcome = await supervisor.call_tool("book_table", {})
    assert not outcome.is_error, outcome.text
    assert json.loads(outcome.text) == {"action": "accept", "content": content}
    shown = asker.forms[0]
    assert (shown.server, shown.message) == ("diner", "Book a table?")
    assert [c.title for c in shown.fields[6].choices] == ["Main hall", "Cellar"]


async def test_a_declined_form_reaches_the_server_as_declined(
    asked: tuple[ServerSupervisor, ScriptedAsker],
) -> None:
    supervisor, asker = asked
    asker.answer = FormAnswer(action="decline")
    outcome = await supervisor.call_tool("book_table", {})
    assert json.loads(outcome.text) == {"action": "decline", "content": None}


async def test_a_form_asking_for_an_api_key_is_refused_and_the_user_never_sees_it(
    asked: tuple[ServerSupervisor, ScriptedAsker],
) -> None:
    supervisor, asker = asked
    asker.answer = FormAnswer(action="accept", content={"api_key": "sk-should-never-be-asked"})
    outcome = await supervisor.call_tool("share_key", {})
    assert "field 'api_key' asks for a secret" in outcome.text
    assert "sk-should-never-be-asked" not in outcome.text
    assert asker.forms == []


async def test_a_nested_schema_is_refused_with_the_reason(
    asked: tuple[ServerSupervisor, ScriptedAsker],
) -> None:
    supervisor, asker = asked
    outcome = await supervisor.call_tool("nested", {})
    assert "field 'address': type 'object' is not allowed in a form" in outcome.text
    assert asker.forms == []


async def test_a_url_request_shows_its_domain_and_the_acceptance_reaches_the_server(
    asked: tuple[ServerSupervisor, ScriptedAsker],
) -> None:
    supervisor, asker = asked
    outcome = await supervisor.call_tool("visit", {})
    assert json.loads(outcome.text) == {"action": "accept", "content": None}
    assert (asker.urls[0].server, asker.urls[0].domain) == ("diner", "login.example.com")
    refused = await supervisor.call_tool("visit_file", {})
    assert "the URL must be an https address" in refused.text
    assert len(asker.urls) == 1


async def test_a_host_without_an_elicitation_handler_tells_the_server_it_cannot_ask(
    tmp_path: Path,
) -> None:
    supervisor = ServerSupervisor("diner", lambda: ELICIT_SERVER, tmp_path / "d.log", FAST)
    supervisor.start()
    try:
        await wait_until(lambda: supervisor.status.state is ServerState.READY)
        outcome = await supervisor.call_tool("book_table", {})
    finally:
        await supervisor.stop()
    assert "Elicitation not supported" in outcome.text
