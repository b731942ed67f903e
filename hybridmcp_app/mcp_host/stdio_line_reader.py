"""Linear-time reading of long lines from stdio MCP servers.

The SDK's stdio client (mcp 2.3) splits ``buffer + chunk`` for every 64 KiB it reads, so a message
of n bytes costs O(n²/64 KiB): a 10 MB tool result (a storage server's part of an object, base64)
takes about a second to read instead of milliseconds, and reading 50 MB through MCP ran at
20–30 MB/s against 450+ MB/s for the same object read directly (``benchmarks.storage``).

``LineTextReceiveStream`` hands the client whole lines instead of raw chunks: it looks for a
newline only in each new chunk and joins the pieces once, so the SDK's split sees one complete
line and the cost is linear. ``use_line_reader()`` puts it where the SDK's stdio client looks it
up; the host calls it once when it is built. The SDK's own loop is unchanged, so every message is
parsed exactly as before.
"""

from __future__ import annotations

from anyio.streams.text import TextReceiveStream


class LineTextReceiveStream(TextReceiveStream):
    """A ``TextReceiveStream`` whose chunks end at a newline (or at the end of the stream)."""

    _pending: list[str]

    async def receive(self) -> str:
        pending = self.__dict__.setdefault("_pending", [])
        while True:
            try:
                chunk = await super().receive()
            except Exception:
                # End of stream (or a broken pipe): first hand over what was held back.
                if pending:
                    rest = "".join(pending)
                    pending.clear()
                    return rest
                raise
            cut = chunk.rfind("\n")
            if cut < 0:
                pending.append(chunk)
                continue
            pending.append(chunk[: cut + 1])
            lines = "".join(pending)
            pending.clear()
            if cut + 1 < len(chunk):
                pending.append(chunk[cut + 1 :])
            return lines


def use_line_reader() -> bool:
    """Make the SDK's stdio client read through ``LineTextReceiveStream``; False when this SDK
    version no longer has the hook (then nothing is changed)."""
    import mcp.client.stdio as sdk_stdio

    current = getattr(sdk_stdio, "TextReceiveStream", None)
    if current is None:
        return False
    if current is not LineTextReceiveStream:
        setattr(sdk_stdio, "TextReceiveStream", LineTextReceiveStream)  # noqa: B010
    return True
