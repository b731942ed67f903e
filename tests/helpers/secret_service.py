"""A real Secret Service for tests: a private D-Bus session with an unlocked GNOME Keyring (the
``secret_service`` fixture; conftests import it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest

from tests.helpers.processes import stop
from tests.helpers.waiting import poll_until

# A session bus with no service activation: otherwise the first Secret Service call could make
# dbus-daemon start a second, locked gnome-keyring-daemon before ours has claimed the name.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
MISSING_TOOL = (
    "{tool} is missing: run `bash scripts/system-deps.sh test` (make test does it as root)"
)


def require_tool(tool: str) -> str:
    """The path of a system tool the tests need, or a failure saying how to install it."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(MISSING_TOOL.format(tool=tool))
    return path


def _forget_keyring_probe() -> None:
    # keyring probes which backends are viable once per process (jaraco's @once) and keeps it.
    with contextlib.suppress(KeyError):  # reset() raises when nothing was probed yet
        keyring.backend.get_all_keyring.reset()


def _login_collection_unlocked() -> bool:
    # Only looks: asking for the default collection too early would make the daemon try to
    # create one, which needs a prompt that nobody can answer here.
    import secretstorage

    try:
        with secretstorage.dbus_init() as connection:
            if not secretstorage.check_service_availability(connection):
                return False
            return any(
                collection.get_label() == "Login" and not collection.is_locked()
                for collection in secretstorage.get_all_collections(connection)
            )
    except secretstorage.exceptions.SecretStorageException:
        return False


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private D-Bus session with an unlocked GNOME Keyring; yields the bus address."""
    dbus_daemon, keyring_daemon = require_tool("dbus-daemon"), require_tool("gnome-keyring-daemon")
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    home = tmp_path / "keyring-home"
    home.mkdir()
    address = f"unix:path={runtime}/bus"
    config = tmp_path / "session-bus.conf"
    config.write_text(BUS_CONFIG.format(address=address))
    bus = subprocess.Popen(
        [dbus_daemon, f"--config-file={config}", "--nofork", "--nopidfile"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env_vars = {
        "DBUS_SESSION_BUS_ADDRESS": address,
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / "share"),
        "HOME": str(home),
    }
    for name, value in env_vars.items():
        monkeypatch.setenv(name, value)
    daemon: subprocess.Popen[bytes] | None = None
    previous_backend = keyring.get_keyring()
    try:
        poll_until((runtime / "bus").exists, "dbus-daemon did not open its socket")
        daemon = subprocess.Popen(
            [keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env_vars},
        )
        assert daemon.stdin is not None
        daemon.stdin.write(b"test-keyring-password")
        daemon.stdin.close()
        poll_until(
            _login_collection_unlocked, "gnome-keyring-daemon did not unlock its login keyring"
        )
        _forget_keyring_probe()  # so keyring looks again, now that a Secret Service is on the bus
        keyring.core.init_backend()
        yield address
    finally:
        _forget_keyring_probe()
        keyring.set_keyring(previous_backend)
        if daemon is not None:
            stop(daemon)
        stop(bus)
