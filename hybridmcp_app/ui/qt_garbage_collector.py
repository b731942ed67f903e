"""Python's cycle collector, run on the GUI thread only.

Left automatic, a collection can start in whichever thread allocates, such as a model's worker
thread, and destroy Qt objects there ("QObject::~QObject: Timers cannot be stopped from another
thread", or a crash). This turns automatic collection off and collects from a timer on the GUI
thread, generation by generation, when the allocation counts say so.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class QtGarbageCollector(QObject):
    """Owns garbage collection while it exists; ``stop`` gives it back to Python."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        gc.enable()
