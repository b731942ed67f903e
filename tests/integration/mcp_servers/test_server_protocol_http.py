"""What every server on ``MCPServerBase`` says over Streamable HTTP, read off the wire of a real
subprocess: resumable SSE streams (a priming event with an id and the ``retry`` hint, events
replayed after ``Last-Event-ID``), and at 2026-07-28 its identity in each result's ``_meta`` and a
JSON-RPC error for ``inputResponses`` that are not an object."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hybridmcp_app import __version__
from hybridmcp_app.mcp_servers.server_base import SSE_RETRY_MS, TOKEN_ENV
from tests.helpers.llama_server import free_port
from tests.helpers.mcp_http import http_server
from tests.helpers.waiting import PATIENCE_S
from tests.integration.mcp_host.conftest import REPO

pytestmark = pytest.mark.integration

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
ACCEPT = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    with http_server(["tests.helpers.shout_server"], free_port(), env, REPO) as served:
        yield served


def sse_events(lines: Iterator[str], until: str) -> list[dict[str, str]]:
    """The SSE events read up to the first whose data holds ``until``."""
    events: list[dict[str, str]] = []
    event: dict[str, str] = {}
    for line in lines:
        if line == "":
            if event:
                events.append(event)
                if until in event.get("data", ""):
                    return events
            event = {}
            continue
        field, _, value = line.partition(":")
        event[field] = value.removeprefix(" ")
    raise AssertionError(f"the stream ended before {until!r}: {events}")


def modern_call(url: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A 2026-07-28 request: no session, the envelope in ``_meta``, the method in a header."""
    headers = {**ACCEPT, "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if "name" in params:
        headers["Mcp-Name"] = params["name"]
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {**params, "_meta": ENVELOPE}}
    reply = httpx.post(url, json=body, headers=headers, timeout=PATIENCE_S)
    answer: dict[str, Any]
    if reply.headers["content-type"].startswith("text/event-stream"):
        events = sse_events(iter(reply.text.splitlines()), '"id":7')
        answer = json.loads(events[-1]["data"])
    else:
        answer = reply.json()
    return answer


def test_a_stream_is_primed_with_an_event_id_and_the_retry_hint_and_can_be_resumed(
    url: str,
) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    with httpx.Client(timeout=PATIENCE_S) as http:
        with http.stream("POST", url, json=initialize, headers=ACCEPT) as reply:
            session = reply.headers["mcp-session-id"]
            priming, answered = sse_events(reply.iter_lines(), '"id":1')
        assert priming == {"id": priming["id"], "data": "", "retry": str(SSE_RETRY_MS)}
        assert answered["id"] != priming["id"]
        assert json.loads(answered["data"])["result"]["serverInfo"]["version"] == __version__

        # The client lost the stream after the priming event: resuming replays the answer.
        resume = {
            "Accept": "text/event-stream",
            "mcp-session-id": session,
            "MCP-Protocol-Version": LEGACY,
            "Last-Event-ID": priming["id"],
        }
        with http.stream("GET", url, headers=resume) as replay:
            assert replay.status_code == 200
            replayed = sse_events(replay.iter_lines(), '"id":1')[0]
    assert replayed == answered


def test_2026_results_name_the_server_and_the_apps_version_in_their_meta(url: str) -> None:
    discovered = modern_call(url, "server/discover", {})
    called = modern_call(url, "tools/call", {"name": "shout", "arguments": {"text": "hi"}})

    identity = {"name": "shout", "version": __version__}
    assert discovered["result"]["_meta"]["io.modelcontextprotocol/serverInfo"] == identity
    assert called["result"]["_meta"]["io.modelcontextprotocol/serverInfo"] == identity
    assert called["result"]["content"][0]["text"] == "HI"


def test_2026_input_responses_that_are_not_an_object_are_invalid_params(url: str) -> None:
    call = {"name": "shout", "arguments": {"text": "hi"}}
    refused = modern_call(url, "tools/call", {**call, "inputResponses": None})
    answered = modern_call(url, "tools/call", {**call, "inputResponses": {}})

    assert refused["error"]["code"] == -32602
    assert refused["error"]["message"] == "inputResponses must be an object of responses"
    assert answered["result"]["content"][0]["text"] == "HI"
