"""Models a user brings to the benchmarks that involve the provider or the local model.

Without these variables a benchmark starts llama.cpp's OpenAI-compatible server on 127.0.0.1
with the embedded Gemma 3 270M as "the provider" and uses the same file as the local model:

    HYBRIDMCP_BENCH_PROVIDER_URL    an OpenAI-compatible base URL (e.g. https://api.openai.com/v1)
    HYBRIDMCP_BENCH_PROVIDER_MODEL  its model name (needed with the URL)
    HYBRIDMCP_BENCH_PROVIDER_KEY    its API key (optional: servers on 127.0.0.1 often need none)
    HYBRIDMCP_BENCH_LOCAL_MODEL     a GGUF file for the local side
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROVIDER_URL = "HYBRIDMCP_BENCH_PROVIDER_URL"
PROVIDER_MODEL = "HYBRIDMCP_BENCH_PROVIDER_MODEL"
PROVIDER_KEY = "HYBRIDMCP_BENCH_PROVIDER_KEY"
LOCAL_MODEL = "HYBRIDMCP_BENCH_LOCAL_MODEL"
SERVED_MODEL = "gemma"  # the name the benchmark's own llama.cpp server answers to


class BenchSetupError(SystemExit):
    """A variable above is set wrongly: the benchmark stops with this one line."""


@dataclass(frozen=True)
class BenchProvider:
    """The provider a benchmark talks to: the user's, or the llama.cpp server it started."""

    base_url: str
    model: str
    key: str
    pid: int | None = None  # the server's process, when the benchmark started it
    user_supplied: bool = False

    def describe(self) -> str:
        return f"{self.model} at {self.base_url}" if self.user_supplied else "llama.cpp server"


def local_model_file(default: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The user's GGUF (``HYBRIDMCP_BENCH_LOCAL_MODEL``) or ``default``."""
    chosen = (os.environ if environ is None else environ).get(LOCAL_MODEL, "").strip()
    if not chosen:
        return default
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise BenchSetupError(f"{LOCAL_MODEL}: no file at {path}")
    return path


def user_provider(environ: Mapping[str, str] | None = None) -> BenchProvider | None:
    """The provider the variables name, or None when ``HYBRIDMCP_BENCH_PROVIDER_URL`` is unset."""
    env = os.environ if environ is None else environ
    url = env.get(PROVIDER_URL, "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise BenchSetupError(f"{PROVIDER_URL}: {url!r} is not an http(s) URL")
    model = env.get(PROVIDER_MODEL, "").strip()
    if not model:
        raise BenchSetupError(f"{PROVIDER_MODEL} is needed with {PROVIDER_URL}")
    key = env.get(PROVIDER_KEY, "").strip() or "none"
    return BenchProvider(url.rstrip("/"), model, key, user_supplied=True)


@contextmanager
def bench_provider(model_file: Path, **server_options: Any) -> Iterator[BenchProvider]:
    """The user's provider, else llama.cpp's server over ``model_file`` for the block."""
    chosen = user_provider()
    if chosen is not None:
        yield chosen
        return
    from tests.helpers.llama_server import llama_server

    with llama_server(model_file, api_key="bench", **server_options) as server:
        yield BenchProvider(server.base_url, SERVED_MODEL, server.api_key, server.process.pid)
