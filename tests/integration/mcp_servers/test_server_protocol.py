"""What ``MCPServerBase`` adds to every server it builds, at both revisions (2025-11-25 over the
handshake, 2026-07-28 stateless), with the SDK's own client in memory: the app's version,
``logging/setLevel``, resource subscriptions and their updates, completion, and the error codes
each revision names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    PromptReference,
    ResourceTemplateReference,
    ResourceUpdatedNotification,
)

from hybridmcp_app import __version__
from hybridmcp_app.mcp_servers.server_base import MCPServerBase
from hybridmcp_app.mcp_servers.server_protocol import MAX_COMPLETIONS, RESOURCE_NOT_FOUND, Reference
from tests.helpers.shout_server import ShoutServer
from tests.helpers.waiting import PATIENCE_S, wait_until

MODERN = "2026-07-28"
TEMPLATE = "notes://{topic}/{name}"
NOTES = {"fruit": ["apple", "apricot", "banana"], "many": [f"n{i:03}" for i in range(150)]}
APPLE = "notes://fruit/apple"
BANANA = "notes://fruit/banana"


class NotesServer(MCPServerBase):
    """A resource template, a prompt with an argument, completion over both, and a tool that
    says a note changed."""

    name = "notes"

    def build(self) -> MCPServer:
        server = MCPServer(self.name)

        @server.resource(TEMPLATE)
        def note(topic: str, name: str) -> str:
            if name not in NOTES.get(topic, ()):
                from mcp.server.mcpserver.exceptions import ResourceNotFoundError

                raise ResourceNotFoundError(f"no note {topic}/{name}")
            return f"{topic}: {name}"

        @server.prompt()
        def summarise(topic: str) -> str:
            """Summarise a topic's notes."""
            return f"Summarise {topic}"

        @server.tool()
        async def touch(uri: str, ctx: Context) -> str:
            """Say that a note changed."""
            await ctx.notify_resource_updated(uri)
            return "told"

        return server

    async def complete(
        self, ref: Reference, argument: str, value: str, given: Mapping[str, str]
    ) -> Sequence[str]:
        if argument == "topic":
            return [topic for topic in NOTES if topic.startswith(value)]
        return [name for name in NOTES.get(given.get("topic", ""), ()) if name.startswith(value)]


async def test_every_server_names_the_apps_version() -> None:
    """(At 2026-07-28 in each result's ``_meta``: test_server_protocol_http.)"""
    async with Client(NotesServer().build(), mode="legacy") as client:
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("notes", __version__)
    assert __version__  # never the SDK's empty default


async def test_2025_logging_set_level_is_accepted_and_logging_declared() -> None:
    async with Client(ShoutServer().build(), mode="legacy") as client:
        assert client.server_capabilities.logging is not None
        with pytest.warns(MCPDeprecationWarning, match="logging capability is deprecated"):
            await client.set_logging_level("warning")


async def test_2026_logging_set_level_is_a_removed_method() -> None:
    async with Client(ShoutServer().build(), mode=MODERN) as client:
        with (
            pytest.warns(MCPDeprecationWarning, match="logging capability is deprecated"),
            pytest.raises(MCPError) as refused,
        ):
            await client.set_logging_level("warning")
    assert refused.value.code == METHOD_NOT_FOUND


async def test_2025_a_subscribed_connection_hears_of_its_resource_and_no_other() -> None:
    heard: list[str] = []
    told = anyio.Event()

    async def updates(message: Any) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, ResourceUpdatedNotification):
            heard.append(root.params.uri)
            told.set()

    async with Client(NotesServer().build(), mode="legacy", message_handler=updates) as client:
        assert client.server_capabilities.resources is not None
        assert client.server_capabilities.resources.subscribe
        with pytest.warns(MCPDeprecationWarning):
            await client.subscribe_resource(APPLE)
        await client.call_tool("touch", {"uri": BANANA})  # not subscribed
        await client.call_tool("touch", {"uri": APPLE})
        with anyio.fail_after(PATIENCE_S):
            await told.wait()
        with pytest.warns(MCPDeprecationWarning):
            await client.unsubscribe_resource(APPLE)
        await client.call_tool("touch", {"uri": APPLE})  # no longer subscribed
        with pytest.warns(MCPDeprecationWarning):
            await client.subscribe_resource(BANANA)
        await client.call_tool("touch", {"uri": BANANA})
        await wait_until(lambda: BANANA in heard)  # sent after any update about the apple
    assert heard == [APPLE, BANANA]


async def test_2026_a_listen_stream_hears_of_its_resource_and_no_other() -> None:
    async with (
        Client(NotesServer().build(), mode=MODERN) as client,
        client.listen(resource_subscriptions=[APPLE]) as subscription,
    ):
        await client.call_tool("touch", {"uri": BANANA})
        await client.call_tool("touch", {"uri": APPLE})
        with anyio.fail_after(PATIENCE_S):
            event = await anext(aiter(subscription))
    assert event == ResourceUpdated(uri=APPLE)


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_completion_offers_a_templates_values_given_the_arguments_chosen(mode: str) -> None:
    template = ResourceTemplateReference(type="ref/resource", uri=TEMPLATE)
    async with Client(NotesServer().build(), mode=mode) as client:
        if mode == "legacy":
            assert client.server_capabilities.completions is not None
        names = await client.complete(template, {"name": "name", "value": "ap"}, {"topic": "fruit"})
        topics = await client.complete(
            PromptReference(type="ref/prompt", name="summarise"), {"name": "topic", "value": "f"}
        )
        many = await client.complete(template, {"name": "name", "value": ""}, {"topic": "many"})
    assert names.completion.values == ["apple", "apricot"]
    assert (names.completion.total, names.completion.has_more) == (2, False)
    assert topics.completion.values == ["fruit"]
    assert len(many.completion.values) == MAX_COMPLETIONS
    assert (many.completion.total, many.completion.has_more) == (150, True)


@pytest.mark.parametrize(
    ("ref", "argument", "reason"),
    [
        (PromptReference(type="ref/prompt", name="nope"), "topic", "no prompt 'nope'"),
        (PromptReference(type="ref/prompt", name="summarise"), "x", "has no argument 'x'"),
        (ResourceTemplateReference(type="ref/resource", uri="x://{y}"), "y", "no resource temp"),
        (ResourceTemplateReference(type="ref/resource", uri=TEMPLATE), "x", "has no argument"),
    ],
)
async def test_completion_of_an_unknown_prompt_template_or_argument_is_invalid_params(
    ref: Reference, argument: str, reason: str
) -> None:
    async with Client(NotesServer().build(), mode="legacy") as client:
        with pytest.raises(MCPError, match=reason) as refused:
            await client.complete(ref, {"name": argument, "value": ""})
    assert refused.value.code == INVALID_PARAMS


async def test_a_server_with_nothing_to_complete_declares_no_completion() -> None:
    async with Client(ShoutServer().build(), mode="legacy") as client:
        assert client.server_capabilities.completions is None
        with pytest.raises(MCPError) as refused:
            await client.complete(
                PromptReference(type="ref/prompt", name="any"), {"name": "a", "value": ""}
            )
    assert refused.value.code == METHOD_NOT_FOUND


@pytest.mark.parametrize(
    ("mode", "code"), [("legacy", RESOURCE_NOT_FOUND), (MODERN, INVALID_PARAMS)]
)
async def test_an_unknown_resource_gets_the_code_its_revision_names(mode: str, code: int) -> None:
    async with Client(NotesServer().build(), mode=mode) as client:
        for uri in ("notes://fruit/cherry", "other://thing"):  # a template's miss, no match
            with pytest.raises(MCPError) as refused:
                await client.read_resource(uri)
            assert (refused.value.code, refused.value.data) == (code, {"uri": uri})


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_an_unknown_prompt_is_invalid_params(mode: str) -> None:
    async with Client(NotesServer().build(), mode=mode) as client:
        with pytest.raises(MCPError, match="no prompt 'nope'") as refused:
            await client.get_prompt("nope")
    assert refused.value.code == INVALID_PARAMS
