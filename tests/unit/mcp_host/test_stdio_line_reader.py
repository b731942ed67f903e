"""The stdio client's reader hands over whole lines however the bytes arrive."""

from __future__ import annotations

import anyio
import mcp.client.stdio as sdk_stdio

from hybridmcp_app.mcp_host.stdio_line_reader import LineTextReceiveStream, use_line_reader


async def chunks_of(pieces: list[bytes]) -> list[str]:
    send, receive = anyio.create_memory_object_stream[bytes](len(pieces))
    for piece in pieces:
        send.send_nowait(piece)
    send.close()
    async with receive:
        return [chunk async for chunk in LineTextReceiveStream(receive)]


async def test_lines_split_across_chunks_come_out_whole() -> None:
    long = "x" * 200_000
    pieces = [b'{"a": 1}\n{"b": "', long[:70_000].encode(), long[70_000:].encode(),
              b'"}\n{"c": 3}\n{"d"', b": 4}"]  # fmt: skip
    chunks = await chunks_of(pieces)
    assert chunks == ['{"a": 1}\n', f'{{"b": "{long}"}}\n{{"c": 3}}\n', '{"d": 4}']
    assert "".join(chunks) == b"".join(pieces).decode()


async def test_a_multibyte_character_split_between_chunks_survives() -> None:
    text = "café ☕\n".encode()
    assert await chunks_of([text[:4], text[4:6], text[6:]]) == ["café ☕\n"]


def test_the_sdk_stdio_client_reads_through_it() -> None:
    original = getattr(sdk_stdio, "TextReceiveStream")  # noqa: B009 - not exported by the SDK
    try:
        assert use_line_reader() and use_line_reader()  # once or twice: the same
        assert getattr(sdk_stdio, "TextReceiveStream") is LineTextReceiveStream  # noqa: B009
    finally:
        setattr(sdk_stdio, "TextReceiveStream", original)  # noqa: B010
