"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temp dir, ``pg_ctl`` on a free
port of 127.0.0.1, stopped and removed afterwards. Debian keeps the binaries under
``/usr/lib/postgresql/<version>/bin``; ``initdb`` refuses to run as root, so as root they run as
the ``postgres`` user (``runuser``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.llama_server import free_port

USER = "hybridmcp"


class PostgresUnavailable(RuntimeError):
    pass


def binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresUnavailable("PostgreSQL is not installed (Debian: postgresql)")
    return Path(initdb).parent


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A running cluster; yields a libpq connection string for its ``postgres`` database."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="hybridmcp-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    # A natural-language collation (ICU en-US), not C: the store must not depend on it.
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
        "--locale-provider=icu", "--icu-locale=en-US", "--locale=C.UTF-8")  # fmt: skip
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
        "-w", "start")  # fmt: skip
    try:
        yield f"host=127.0.0.1 port={port} user={USER} dbname=postgres"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60, check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
