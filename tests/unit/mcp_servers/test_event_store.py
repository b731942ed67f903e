"""``BoundedEventStore``: what a resumed SSE stream gets back, and how much is kept."""

from __future__ import annotations

import pytest
from mcp.server.streamable_http import EventMessage
from mcp.types import JSONRPCMessage, JSONRPCNotification

from hybridmcp_app.mcp_servers.event_store import BoundedEventStore


def note(n: int) -> JSONRPCMessage:
    return JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"n": n})


async def replayed(store: BoundedEventStore, after: str) -> tuple[str | None, list[EventMessage]]:
    sent: list[EventMessage] = []

    async def send(event: EventMessage) -> None:
        sent.append(event)

    stream = await store.replay_events_after(after, send)
    return stream, sent


async def test_a_resumed_stream_gets_its_own_later_messages_with_their_ids() -> None:
    store = BoundedEventStore()
    priming = await store.store_event("a", None)
    first = await store.store_event("a", note(1))
    await store.store_event("b", note(99))  # another request's stream
    second = await store.store_event("a", note(2))

    stream, sent = await replayed(store, priming)

    assert stream == "a"
    assert [(event.event_id, event.message) for event in sent] == [
        (first, note(1)),
        (second, note(2)),
    ]


async def test_resuming_after_the_last_event_replays_nothing_but_names_the_stream() -> None:
    store = BoundedEventStore()
    await store.store_event("a", note(1))
    last = await store.store_event("a", note(2))

    assert await replayed(store, last) == ("a", [])


async def test_an_unknown_or_dropped_event_id_is_not_resumed() -> None:
    store = BoundedEventStore(max_events=2)
    oldest = await store.store_event("a", None)
    await store.store_event("a", note(1))
    await store.store_event("a", note(2))  # the oldest is dropped

    assert store.size == 2
    assert await replayed(store, oldest) == (None, [])
    assert await replayed(store, "no-such-id") == (None, [])


async def test_an_empty_store_still_counts_as_given() -> None:
    """The SDK checks ``if event_store:`` before priming a stream."""
    assert BoundedEventStore()


def test_a_store_keeps_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        BoundedEventStore(max_events=0)
