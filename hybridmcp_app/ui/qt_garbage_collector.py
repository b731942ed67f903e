"""Python's cycle collector, run on the GUI thread only.

Left automatic, a collection can start in whichever thread allocates, such as a model's worker
thread, and destroy Qt objects there ("QObject::~QObject: Timers cannot be stopped from another
thread", or a crash). This turns automatic collection off and collects from a timer on the GUI
thread, generation by generation, when the allocation counts say so.

A full (generation 2) collection walks every object and can take 50-100 ms once a model and the
SDKs are loaded; while ``busy`` says the app is streaming answers it waits, for at most
``MAX_FULL_DEFERRAL_S``, so the chat does not stutter (benchmarks.ui_responsiveness).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 100  # gen-0 stays small: a collection of 40-80k objects took 17-44 ms
MAX_FULL_DEFERRAL_S = 60.0


class QtGarbageCollector(QObject):
    """Owns garbage collection while it exists; ``stop`` gives it back to Python."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._busy: Callable[[], bool] = lambda: False
        self._frozen = False
        self._full_due_since: float | None = None
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def defer_full_collections_while(self, busy: Callable[[], bool]) -> None:
        self._busy = busy

    def freeze_once(self) -> None:
        """Once start-up work has settled (the first answer done: the model, the SDKs and their
        caches exist), collect, then move every surviving object out of the collector's sight
        (``gc.freeze``). Later collections walk only what is new: a gen-1 pass after the first
        answer walked ~100,000 objects (60-170 ms), frozen it walks ~9,000 (6 ms)."""
        if not self._frozen:
            self._frozen = True
            gc.collect()
            gc.freeze()

    def check(self) -> None:
        counts = gc.get_count()
        if counts[2] > self._thresholds[2]:
            now = time.monotonic()
            due_since = self._full_due_since = self._full_due_since or now
            if not self._busy() or now - due_since > MAX_FULL_DEFERRAL_S:
                gc.collect(2)
                self._full_due_since = None
                return
        for generation in (1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.unfreeze()
        gc.collect()
        gc.enable()
