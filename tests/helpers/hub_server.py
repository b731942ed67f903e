"""A Hugging Face Hub on 127.0.0.1: the API and file layout that ``huggingface_hub`` calls.

It serves search (``/api/models``), model info with siblings, sizes and LFS SHA-256
(``/api/models/{repo}[/revision/{rev}]``) and files (``/{repo}/resolve/{rev}/{file}``, GET and
HEAD, with ETag, ``X-Repo-Commit``, ``X-Linked-Etag``/``X-Linked-Size`` and Range), over real
files on disk. Failures are scripted per file: drop the connection after N bytes, serve wrong
bytes, report a size bigger than the file, hold the download at a byte until released (to pause
it there); a gated repo answers 401 without a token and 403 with
a token that has no access. Only the network beyond 127.0.0.1 is faked.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.helpers.loopback_http import serving
from tests.helpers.waiting import PATIENCE_S

_RESOLVE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_INFO = re.compile(r"^/api/models/([^/]+/[^/]+?)(?:/revision/([^/]+))?$")
_CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ServedFile:
    """A file of a repo, read from ``path``; its hash is the LFS SHA-256 the hub publishes."""

    path: Path
    sha256: str = ""
    drop_after: int | None = None  # close the connection after this many bytes…
    drops_left: int = 0  # …this many times
    wrong_bytes: bool = False  # serve the right size with one byte changed
    claimed_size: int | None = None  # the size model info reports, if not the real one
    hold_at: int | None = None  # once, stop sending at this byte until ``release`` is set
    held: threading.Event = field(default_factory=threading.Event)  # set: it stopped there
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or sha256_of(self.path)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass
class ServedRepo:
    repo_id: str
    files: dict[str, ServedFile]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    gated: bool = False
    tags: list[str] = field(default_factory=lambda: ["gguf"])
    downloads: int = 0


@dataclass
class HubServer:
    """The repos served, the tokens that open gated ones, and every request seen."""

    repos: dict[str, ServedRepo] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    endpoint: str = ""

    def add(self, repo: ServedRepo) -> ServedRepo:
        self.repos[repo.repo_id] = repo
        return repo

    def file_requests(self, filename: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "GET" and r["path"].endswith(filename)]


def _model_summary(repo: ServedRepo) -> dict[str, Any]:
    return {
        "_id": repo.repo_id, "id": repo.repo_id, "modelId": repo.repo_id,
        "author": repo.repo_id.split("/")[0], "downloads": repo.downloads, "likes": 0,
        "tags": repo.tags, "gated": "manual" if repo.gated else False, "private": False,
        "library_name": "gguf" if "gguf" in repo.tags else None,
        "lastModified": "2026-12-01T00:00:00.000Z", "createdAt": "2026-11-01T00:00:00.000Z",
    }  # fmt: skip


def _model_info(repo: ServedRepo) -> dict[str, Any]:
    siblings = []
    for name, served in repo.files.items():
        size = served.claimed_size if served.claimed_size is not None else served.size
        siblings.append(
            {"rfilename": name, "size": size, "blobId": served.sha256[:40],
             "lfs": {"sha256": served.sha256, "size": size, "pointerSize": 135}}
        )  # fmt: skip
    return {**_model_summary(repo), "sha": repo.commit, "siblings": siblings}


def _handler(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, *, head: bool) -> None:
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            hub.requests.append(
                {"method": self.command, "path": path, "range": self.headers.get("Range"),
                 "authorization": self.headers.get("Authorization")}
            )  # fmt: skip
            try:
                if path == "/api/models":
                    self._search(urllib.parse.parse_qs(url.query))
                elif match := _INFO.match(path):
                    self._info(match.group(1))
                elif match := _RESOLVE.match(path):
                    self._resolve(match.group(1), match.group(3), head=head)
                else:
                    self._error(404, "NotFound", "no such page")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client went away (a cancelled download)

        def _json(self, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _search(self, query: dict[str, list[str]]) -> None:
            words = " ".join(query.get("search", [])).lower()
            wanted = set(query.get("filter", []))
            limit = int(query.get("limit", ["1000"])[0])
            found = [
                _model_summary(repo)
                for repo in hub.repos.values()
                if words in repo.repo_id.lower() and wanted <= set(repo.tags)
            ]
            self._json(found[:limit])

        def _info(self, repo_id: str) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                return
            self._json(_model_info(repo))

        def _resolve(self, repo_id: str, filename: str, *, head: bool) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                return
            if repo.gated:
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if not token:
                    self._error(401, "GatedRepo", f"Access to model {repo_id} is restricted. "
                                "You must have access to it and be authenticated.")  # fmt: skip
                    return
                if token not in hub.tokens:
                    self._error(403, "GatedRepo", f"Access to model {repo_id} is restricted and "
                                "you are not in the authorized list.")  # fmt: skip
                    return
            served = repo.files.get(filename)
            if served is None:
                self._error(404, "EntryNotFound", f"{filename} does not exist in {repo_id}")
                return
            self._send_file(repo, served, head=head)

        def _send_file(self, repo: ServedRepo, served: ServedFile, *, head: bool) -> None:
            size = served.size
            start, end = 0, size - 1
            wanted = self.headers.get("Range")
            if wanted and (match := re.fullmatch(r"bytes=(\d+)-(\d*)", wanted.strip())):
                start = int(match.group(1))
                end = min(int(match.group(2) or size - 1), size - 1)
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            partial = start > 0 or end < size - 1
            self.send_response(206 if partial else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", f'"{served.sha256}"')
            self.send_header("X-Linked-Etag", f'"{served.sha256}"')
            self.send_header("X-Linked-Size", str(size))
            self.send_header("X-Repo-Commit", repo.commit)
            self.send_header("Content-Length", str(end - start + 1))
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if head:
                return
            count = end - start + 1
            if served.drops_left > 0 and served.drop_after is not None:
                served.drops_left -= 1
                count = max(0, min(count, served.drop_after - start))
                self.close_connection = True
            with served.path.open("rb") as handle:
                if served.wrong_bytes:
                    data = bytearray(handle.read()[start : start + count])
                    data[len(data) // 2] ^= 0xFF
                    self.wfile.write(bytes(data))
                else:
                    self.wfile.flush()
                    hold = served.hold_at
                    if hold is not None and start < hold < start + count:
                        served.hold_at = None
                        self.connection.sendfile(handle, start, hold - start)
                        served.held.set()
                        served.release.wait(PATIENCE_S)
                        count, start = count - (hold - start), hold
                    self.connection.sendfile(handle, start, count)

    return Handler


@contextmanager
def hub_server() -> Iterator[HubServer]:
    """A running hub with no repos yet (add them with ``hub.add``); its URL is ``hub.endpoint``."""
    hub = HubServer()
    with serving(_handler(hub)) as hub.endpoint:
        yield hub
