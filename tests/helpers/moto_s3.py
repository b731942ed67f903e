"""AWS S3 for tests: moto in server mode on a free port of 127.0.0.1 (``moto_server``), any
credentials accepted. s3fs against moto must not be given ``region_name='us-east-1'`` (its
bucket creation then fails), so none is set."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop, wait_for_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def moto_s3(*, check_credentials: bool = False) -> Iterator[str]:
    """A running S3 endpoint; yields its URL. With ``check_credentials`` moto checks every
    request's signature against its own IAM, where no access key exists: any key is wrong."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"} if check_credentials else None
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(process, port, "moto_server")
        yield url
    finally:
        stop(process)
