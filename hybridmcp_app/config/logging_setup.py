"""Named loggers under ``hybridmcp``: a rotating file, optional stderr, and an in-memory buffer."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.settings import LoggingSettings

ROOT_LOGGER = "hybridmcp"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


@dataclass(frozen=True)
class LogEntry:
    """One formatted record, as the log viewer shows it."""

    created: float
    level: int
    level_name: str
    logger: str
    text: str


LogListener = Callable[[LogEntry], None]


class LogBuffer(logging.Handler):
    """Keeps the last records for the log viewer and tells listeners about new ones.

    Listeners are called on the thread that logged; a UI must hop to its own thread.
    """

    def __init__(self, capacity: int = 5000) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._listeners: list[LogListener] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = LogEntry(
                record.created, record.levelno, record.levelname, record.name, self.format(record)
            )
        except Exception:
            self.handleError(record)
            return
        with self._guard:
            self._entries.append(entry)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(entry)

    def entries(self) -> list[LogEntry]:
        with self._guard:
            return list(self._entries)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()

    def subscribe(self, listener: LogListener) -> Callable[[], None]:
        """Add a listener; returns a function that removes it."""
        with self._guard:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._guard:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


def configure_logging(
    paths: AppPaths, settings: LoggingSettings, *, verbose: bool = False
) -> LogBuffer:
    """Attach the file, stderr (verbose only) and buffer handlers to the ``hybridmcp`` logger."""
    root = logging.getLogger(ROOT_LOGGER)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if verbose else getattr(logging, settings.level))
    root.propagate = False
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        paths.log_file,
        maxBytes=settings.max_file_kb * 1024,
        backupCount=settings.backup_count,
        encoding="utf-8",
    )
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(file_handler)
    if verbose:
        stream_handler = logging.StreamHandler(sys.stderr)
        stream_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(stream_handler)
    buffer = LogBuffer()
    root.addHandler(buffer)
    return buffer
