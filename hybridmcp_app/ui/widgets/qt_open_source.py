"""Open a library source where the citation points: a PDF at its page, anything else as a file.

Desktop viewers take the page in their own way (there is no portable ``#page=`` for local
files); the ones found on PATH are used, else the system's default application opens the file
at its start.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger("hybridmcp.ui.open_source")

# viewer -> arguments before the file, "{page}" replaced by the page number (1-based)
PAGE_VIEWERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("evince", ("--page-label={page}",)),
    ("okular", ("-p", "{page}")),
    ("zathura", ("-P", "{page}")),
    ("qpdfview", ()),  # takes FILE#PAGE, handled below
    ("mupdf", ()),  # takes FILE PAGE, handled below
)


def viewer_command(
    path: Path, page: int | None, which: Callable[[str], str | None] = shutil.which
) -> list[str] | None:
    """A command that opens ``path`` at ``page``, if a viewer that can is installed."""
    if page is None or path.suffix.lower() not in {".pdf", ".xps", ".epub"}:
        return None
    for name, arguments in PAGE_VIEWERS:
        program = which(name)
        if program is None:
            continue
        if name == "qpdfview":
            return [program, f"{path}#{page}"]
        if name == "mupdf":
            return [program, str(path), str(page)]
        return [program, *(part.format(page=page) for part in arguments), str(path)]
    return None


def open_source(path: Path, page: int | None = None) -> bool:
    """Open ``path`` (at ``page`` where a viewer allows); False if nothing could open it."""
    command = viewer_command(path, page)
    if command is not None and QProcess.startDetached(command[0], command[1:])[0]:
        return True
    opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
    if not opened:
        log.warning("no application opened %s", path)
    return opened
