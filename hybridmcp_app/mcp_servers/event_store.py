"""``BoundedEventStore``: the SSE events a Streamable HTTP server sent, kept in memory so a client
that lost its stream can resume it (``Last-Event-ID``), bounded so a long-running server's memory
stays flat.

The SDK (mcp 2.3.0) defines the ``EventStore`` interface and primes each stream with an event id
(and the ``retry`` hint) once a store is given, but ships no store: this is the smallest one.
The oldest events are dropped first; a client asking to resume after a dropped event gets
nothing replayed (the SDK then answers as for an unknown id) and starts over.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.types import JSONRPCMessage

DEFAULT_MAX_EVENTS = 1000


class BoundedEventStore(EventStore):
    """The last ``max_events`` events of every stream of one server, in the order sent."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError("an event store keeps at least one event")
        self.max_events = max_events
        self._events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None]] = OrderedDict()
        self._ids = itertools.count(1)

    @property
    def size(self) -> int:
        """Events kept now. (No ``__len__``: the SDK tests a store for truth, and an empty one
        must still count as given.)"""
        return len(self._events)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Keep ``message`` (``None`` for a stream's priming event) and give its id."""
        event_id = str(next(self._ids))
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self.max_events:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        """Send the messages of ``last_event_id``'s stream stored after it; that stream, or
        ``None`` when the id is unknown (never given, or already dropped)."""
        if last_event_id not in self._events:
            return None
        stream_id, _message = self._events[last_event_id]
        later = list(self._events.items())
        start = next(i for i, (event_id, _) in enumerate(later) if event_id == last_event_id)
        for event_id, (stream, message) in later[start + 1 :]:
            if stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id
