"""A hub file's bytes over HTTP into a ``Sink``: Range to resume, reconnecting after a drop.

The request goes through ``huggingface_hub``'s HTTP session, so ``HF_ENDPOINT``, proxies, its
headers and its redirects hold (httpx drops the token on a redirect to another origin). A plain
HTTP/1.1 body of known length is then read straight from the connection (httpcore's
``network_stream``) in reads of up to 1 MiB, after the bytes that came with the headers: that
costs a third of the CPU of h11's 64 KB events, which on a fast link cost as much as SHA-256.
Any other body (HTTP/2, chunked, compressed) is read with ``iter_raw``. A connection read past
h11 is closed afterwards, never reused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hybridmcp_app.llm.model_hub.download_errors import DownloadCancelled, ModelDownloadError, mb
from hybridmcp_app.llm.model_hub.download_progress import Meter
from hybridmcp_app.llm.model_hub.download_sink import Sink
from hybridmcp_app.llm.model_hub.hub_client import HubClient, HubFile, describe_hub_error

if TYPE_CHECKING:
    import httpx2

READ_SIZE = 1024 * 1024  # bytes asked of the connection at a time
READ_TIMEOUT_S = 60.0  # a connection silent this long is given up (and resumed, if it can be)


class ConnectionDropped(Exception):
    """The server closed the connection before the whole body arrived."""


def _plain_length(response: httpx2.Response) -> int | None:
    """The body's length when it can be read straight off the connection, else None."""
    headers = response.headers
    if response.http_version != "HTTP/1.1" or "transfer-encoding" in headers:
        return None
    if headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    length = headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def body_chunks(response: httpx2.Response) -> Iterator[bytes]:
    """The response's raw body, read in large pieces where the connection allows it."""
    raw = response.iter_raw()
    length = _plain_length(response)
    stream: Any = response.extensions.get("network_stream")  # httpcore: read(max_bytes, timeout)
    if length is None or length <= READ_SIZE or not callable(getattr(stream, "read", None)):
        yield from raw
        return
    first = next(raw, b"")  # h11 hands over, in one piece, all it read past the headers
    left = length - len(first)
    if first:
        yield first
    while left > 0:
        chunk = stream.read(min(READ_SIZE, left), timeout=READ_TIMEOUT_S)
        if not chunk:
            raise ConnectionDropped(f"the server closed the connection with {left} bytes to go")
        left -= len(chunk)
        yield chunk
    response.close()  # the connection is closed, not reused: h11 never saw this body's end


def fetch_into(
    client: HubClient,
    file: HubFile,
    sink: Sink,
    meter: Meter,
    cancel: threading.Event,
    retries: int,
) -> int:
    """Stream the rest of the file into ``sink``; reconnects with Range after a drop."""
    import httpcore2
    import httpx2
    from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status
    from huggingface_hub.utils._headers import build_hf_headers

    drops = (httpx2.TransportError, httpx2.StreamError, httpcore2.NetworkError,
             httpcore2.TimeoutException, ConnectionDropped)  # fmt: skip
    url = hf_hub_url(file.repo_id, file.filename, revision=file.commit, endpoint=client.endpoint)
    paused = f"the download of {file.filename} was paused at {{}}"
    while True:
        if cancel.is_set():
            raise DownloadCancelled(paused.format(mb(sink.offset)))
        headers = build_hf_headers(token=client.token_value())
        headers["Accept-Encoding"] = "identity"  # the file's own bytes, as the hash covers them
        if sink.offset:
            headers["Range"] = f"bytes={sink.offset}-"
        before = sink.offset
        try:
            with get_session().stream(
                "GET", url, headers=headers, timeout=READ_TIMEOUT_S
            ) as response:
                try:
                    hf_raise_for_status(response)
                except Exception as error:
                    message = describe_hub_error(error, file.repo_id,
                                                 with_token=client.token is not None)  # fmt: skip
                    raise ModelDownloadError(message) from None
                if sink.offset and response.status_code != 206:
                    sink.restart()
                    meter.restart()
                for chunk in body_chunks(response):
                    if cancel.is_set():
                        raise DownloadCancelled(paused.format(mb(sink.offset)))
                    if sink.offset + len(chunk) > file.size:
                        raise ModelDownloadError(f"the hub sent more than {mb(file.size)}")
                    sink.add(chunk)
                    meter.add(len(chunk))
                sink.drain()
                meter.add(0, final=True)
                return sink.offset
        except drops as error:
            if sink.offset == before or retries <= 0:
                detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
                raise ModelDownloadError(
                    f"the download of {file.filename} stopped at {mb(sink.offset)} of "
                    f"{mb(file.size)} ({detail}); try again to resume") from None  # fmt: skip
            retries -= 1
