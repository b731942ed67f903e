"""The download sink: bytes hashed as they arrive and written to the part file in order."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hybridmcp_app.llm.model_hub.download_errors import ModelDownloadError
from hybridmcp_app.llm.model_hub.download_sink import Sink

DATA = os.urandom(5 * 1024 * 1024 + 321)


def _feed(sink: Sink, data: bytes, piece: int = 70_000) -> None:
    for start in range(0, len(data), piece):
        sink.add(data[start : start + piece])


def test_new_bytes_are_written_in_order_and_hashed(tmp_path: Path) -> None:
    part = tmp_path / "model.gguf.part"
    fd = os.open(part, os.O_RDWR | os.O_CREAT)
    try:
        sink = Sink(fd, 0, "model.gguf")
        _feed(sink, DATA)
        sink.drain()
        assert sink.offset == len(DATA)
        digest = sink.finish()
    finally:
        os.close(fd)
    assert part.read_bytes() == DATA
    assert digest == hashlib.sha256(DATA).hexdigest()


def test_a_resumed_part_is_hashed_from_disk_with_the_bytes_that_follow(tmp_path: Path) -> None:
    half = len(DATA) // 2
    part = tmp_path / "model.gguf.part"
    part.write_bytes(DATA[:half])
    fd = os.open(part, os.O_RDWR)
    try:
        sink = Sink(fd, half, "model.gguf")
        _feed(sink, DATA[half:])
        digest = sink.finish()
    finally:
        os.close(fd)
    assert part.read_bytes() == DATA
    assert digest == hashlib.sha256(DATA).hexdigest()


def test_starting_over_throws_away_the_part_and_its_hash(tmp_path: Path) -> None:
    part = tmp_path / "model.gguf.part"
    part.write_bytes(b"stale bytes of another version")
    fd = os.open(part, os.O_RDWR)
    try:
        sink = Sink(fd, part.stat().st_size, "model.gguf")
        _feed(sink, DATA[:1000])
        sink.restart()  # the server ignored the Range and sends the whole file
        _feed(sink, DATA)
        digest = sink.finish()
    finally:
        os.close(fd)
    assert part.read_bytes() == DATA
    assert digest == hashlib.sha256(DATA).hexdigest()


def test_a_write_that_fails_is_raised_in_one_line(tmp_path: Path) -> None:
    part = tmp_path / "model.gguf.part"
    part.write_bytes(b"")
    fd = os.open(part, os.O_RDONLY)  # the writes fail
    try:
        sink = Sink(fd, 0, "model.gguf")
        with pytest.raises(ModelDownloadError, match=r"cannot write model\.gguf") as caught:
            _feed(sink, DATA)  # raised by a later chunk, or once the writer is caught up
            sink.drain()
        assert "\n" not in str(caught.value)
        with pytest.raises(ModelDownloadError, match=r"cannot write model\.gguf"):
            sink.finish()
    finally:
        os.close(fd)
