"""Find commands like ``npx``, ``uvx`` and ``node`` as the user's terminal would.

An app started from a desktop launcher inherits a short PATH (no nvm, no ~/.local/bin), so a
config that works in Claude Desktop's terminal-launched session fails here. The login shell's
PATH is asked for once (``$SHELL -l -c``) and put in front of the app's own.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping

log = logging.getLogger("hybridmcp.mcp.path")
LOGIN_SHELL_TIMEOUT_S = 5.0
_MARK = "__HYBRIDMCP_PATH__"


def login_shell_path(environ: Mapping[str, str] | None = None) -> str:
    """The login shell's PATH followed by the entries of ours it lacks (blocking, ≤ 5 s)."""
    environ = os.environ if environ is None else environ
    current = environ.get("PATH", os.defpath)
    if sys.platform == "win32":
        return current
    shell = environ.get("SHELL") or "/bin/sh"
    try:
        completed = subprocess.run(
            [shell, "-l", "-c", f'printf "{_MARK}%s{_MARK}" "$PATH"'],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=LOGIN_SHELL_TIMEOUT_S,
            env=dict(environ),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.info("login shell PATH unavailable (%s); using the app's PATH", error)
        return current
    # Profiles may print banners: take what is between the marks.
    _, _, rest = completed.stdout.partition(_MARK)
    login, found, _ = rest.partition(_MARK)
    if not found or not login:
        return current
    entries = login.split(os.pathsep)
    entries += [entry for entry in current.split(os.pathsep) if entry and entry not in entries]
    return os.pathsep.join(entries)


def resolve_command(command: str, path: str) -> str:
    """An absolute path for a bare command name found on ``path``; otherwise as given."""
    if os.sep in command or (os.altsep and os.altsep in command):
        return command
    return shutil.which(command, path=path) or command
