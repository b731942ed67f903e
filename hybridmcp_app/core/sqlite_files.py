"""Opening the app's SQLite files so that a damaged one never stops the app."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

log = logging.getLogger("hybridmcp.sqlite")


def check_integrity(connection: sqlite3.Connection) -> None:
    """Raise ``sqlite3.DatabaseError`` unless SQLite's quick check passes."""
    if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        raise sqlite3.DatabaseError("integrity check failed")


def open_or_move_aside(path: Path, initialise: Callable[[], None], what: str) -> Path | None:
    """Run ``initialise`` (which opens and checks ``path``); if SQLite cannot read the file,
    move it aside as ``<name>.corrupt-<time>``, start a new one, and return where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        initialise()
    except sqlite3.DatabaseError as error:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        path.replace(aside)
        log.error("%s unreadable (%s); moved to %s", what, error, aside)
        initialise()
        return aside
    return None
