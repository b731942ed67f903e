"""One download in the model catalogue: its progress bar, speed and time left, and its buttons."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from hybridmcp_app.llm.model_hub.jobs import DownloadJob, JobState, describe_progress

BAR_STEPS = 1000
STALLED_AFTER_S = 3.0  # no new bytes this long: the speed and time left no longer hold


class QtDownloadRow(QWidget):
    """Renders a ``DownloadJob``; the buttons call ``resume``, ``pause``, ``cancel`` and ``use``."""

    def __init__(
        self,
        job: DownloadJob,
        *,
        resume: Callable[[DownloadJob], object],
        cancel: Callable[[DownloadJob], object],
        use: Callable[[Path], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.job = job
        self.name = QLabel(f"<b>{job.file.filename}</b>", self)
        self.name.setToolTip(f"{job.file.repo_id} → {job.path}")
        self.bar = QProgressBar(self)
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setTextVisible(True)
        self.detail = QLabel(self)
        self.detail.setMinimumWidth(260)
        self.pause_button = QPushButton("Pause", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.use_button = QPushButton("Use this model", self)
        self.use_button.setToolTip("Choose this file in Settings → Local model and load it")
        for button in (self.pause_button, self.cancel_button, self.use_button):
            button.setAutoDefault(False)
        self.pause_button.clicked.connect(
            lambda: job.pause() if job.state is JobState.RUNNING else resume(job)
        )
        self.cancel_button.clicked.connect(lambda: cancel(job))
        self.use_button.clicked.connect(lambda: use(job.path))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addWidget(self.name)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.detail)
        for button in (self.pause_button, self.cancel_button, self.use_button):
            layout.addWidget(button)
        self._seen = (job.state, job.progress.done_bytes)
        self._changed_at = time.monotonic()
        self._stall_timer = QTimer(self)
        self._stall_timer.setInterval(1000)
        self._stall_timer.timeout.connect(lambda: self.show_job(self.job))
        self._stall_timer.start()
        self.destroyed.connect(job.subscribe(self.show_job))  # unsubscribes
        self.show_job(job)

    def stalled(self) -> bool:
        """Running, but no byte has arrived for ``STALLED_AFTER_S``."""
        return (
            self.job.state is JobState.RUNNING
            and time.monotonic() - self._changed_at >= STALLED_AFTER_S
        )

    def show_job(self, job: DownloadJob) -> None:
        state = job.state
        if (state, job.progress.done_bytes) != self._seen:
            self._seen = (state, job.progress.done_bytes)
            self._changed_at = time.monotonic()
        self.bar.setValue(round(job.fraction * BAR_STEPS))
        self.bar.setFormat(f"{job.fraction:.0%}")
        if self.stalled():
            done = job.progress.done_bytes / 1e6
            text = f"waiting for the hub: nothing arrived for a while · {done:,.1f} MB so far"
        elif state is JobState.RUNNING:
            text = describe_progress(job.progress)
        elif state is JobState.FAILED:
            text = job.error
        elif state is JobState.PAUSED:
            text = f"paused · {describe_progress(job.progress)}"
        elif state is JobState.CANCELLED:
            text = "cancelled"
        else:
            text = f"downloaded and verified · {job.file.size / 1e6:,.1f} MB"
        self.detail.setText(text)
        self.detail.setToolTip(text)
        self.detail.setProperty("role", "form-errors" if state is JobState.FAILED else "")
        self.pause_button.setText("Pause" if state is JobState.RUNNING else "Resume")
        self.pause_button.setVisible(state not in (JobState.DONE, JobState.CANCELLED))
        self.cancel_button.setVisible(state not in (JobState.DONE, JobState.CANCELLED))
        self.use_button.setVisible(state is JobState.DONE)
