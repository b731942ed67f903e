"""The Library tab's run panel: a progress bar with files/s, ETA, the current file and chunks
stored, a Cancel button while a run goes on, and afterwards what the run did, with Resume when
files were left unfinished."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:  # numpy comes with the library service: not at start-up
    from hybridmcp_app.documents.library_indexer import IndexProgress, IndexReport

LEFT_OUT_LISTED = 20  # files named in the left-out tooltip


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def summarize(report: IndexReport) -> str:
    """One line: what a run did."""
    counts = [
        plural(report.indexed, "file") + " indexed",
        f"{report.failed:,} failed",
        f"{report.skipped:,} skipped",
        f"{report.unchanged:,} unchanged",
        f"{report.removed:,} removed",
        plural(report.chunks, "chunk") + " stored",
    ]
    how = "Cancelled after" if report.cancelled else "Done in"
    line = f"{how} {report.elapsed_s:.1f} s: " + ", ".join(counts) + "."
    if report.left_out:
        line += f" The scan left out {plural(len(report.left_out), 'file')}."
    return line


def left_out_tooltip(report: IndexReport) -> str:
    lines = [f"{item.path.name}: {item.reason}" for item in report.left_out[:LEFT_OUT_LISTED]]
    if len(report.left_out) > LEFT_OUT_LISTED:
        lines.append(f"… and {len(report.left_out) - LEFT_OUT_LISTED:,} more")
    return "\n".join(lines)


class QtLibraryProgress(QWidget):
    """Hidden until a run starts; ``cancel_requested``/``resume_requested`` are the buttons."""

    cancel_requested = Signal()
    resume_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setFormat("%v / %m files")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop indexing (Esc); what was indexed is kept")
        self.details = QLabel(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.resume_button = QPushButton("Resume", self)
        self.resume_button.setToolTip("Index the files a stopped run did not finish")
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.bar, 1)
        bar_row.addWidget(self.cancel_button)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.resume_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar_row)
        layout.addWidget(self.details)
        layout.addLayout(summary_row)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.resume_button.clicked.connect(self.resume_requested)
        self.waiting = 0  # dropped paths waiting for the next run
        self.running = False
        self._show_parts()

    def _show_parts(self) -> None:
        for widget in (self.bar, self.cancel_button, self.details):
            widget.setVisible(self.running)
        self.summary.setVisible(bool(self.summary.text()))
        self.setVisible(self.running or self.summary.isVisibleTo(self))

    def started(self, what: str) -> None:
        self.running = True
        self.bar.setRange(0, 0)  # busy until the scan says how many files
        self.details.setText(what)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.resume_button.hide()
        self._show_parts()

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")

    def show_progress(self, event: IndexProgress) -> None:
        self.bar.setRange(0, max(event.total, 1) if event.total else 0)
        self.bar.setValue(event.done)
        parts = []
        if event.done:
            parts.append(f"{event.files_per_s:.1f} files/s")
        if event.done < event.total:
            parts.append(format_eta(event.eta_s))
        parts.append(plural(event.chunks, "chunk") + " stored")
        if event.current is not None:
            parts.append(event.current.name)
        if self.waiting:
            parts.append(f"{plural(self.waiting, 'more item')} to add next")
        self.details.setText(" · ".join(part for part in parts if part))
        self.details.setToolTip("" if event.current is None else str(event.current))

    def set_waiting(self, count: int) -> None:
        """Paths dropped during the run, added once it is done (or kept if it is cancelled)."""
        self.waiting = count
        if self.running and count:
            text = self.details.text().split(" · ")
            text = [part for part in text if not part.endswith("to add next")]
            self.details.setText(" · ".join([*text, f"{plural(count, 'more item')} to add next"]))

    def finished(self, report: IndexReport | None, pending: int) -> None:
        """The run is over (``report`` None: it failed, the banner says why); ``pending``: the
        files still queued in the library, which Resume finishes."""
        self.running = False
        text = "" if report is None else summarize(report)
        if pending or self.waiting:
            left = [plural(pending, "file") + " not finished"] if pending else []
            if self.waiting:
                left.append(f"{plural(self.waiting, 'dropped item')} not started")
            text = (text + " " if text else "") + " and ".join(left) + ": Resume to go on."
        self.summary.setText(text)
        self.summary.setToolTip("" if report is None else left_out_tooltip(report))
        self.resume_button.setVisible(bool(pending or self.waiting))
        self._show_parts()

    def offer_resume(self, pending: int) -> None:
        """The library opened with files an earlier session did not finish."""
        if pending and not self.running:
            self.finished(None, pending)
