"""Delayed device actions (a door that relocks, a measurement that takes seconds) on one
long-lived thread per simulated device, like a device's own firmware loop.

One thread instead of a `threading.Timer` per action: starting a thread inside paho's message
callback made the new thread contend for the GIL with the reply still waiting to be written.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class DelayedActions:
    """`later(seconds, fn, *args)` runs `fn(*args)` on the thread `name` after `seconds`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def later(self, seconds: float, fn: Callable[..., Any], *args: Any) -> None:
        with self._wake:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, seconds), next(self._seq), fn, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        """Drop what is pending and end the thread (actions already running finish)."""
        with self._wake:
            self._stopped = True
            self._heap.clear()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, fn, args = heapq.heappop(self._heap)
            try:
                fn(*args)
            except Exception:  # noqa: BLE001
                # A simulated device must outlive a bug in one of its actions, like firmware would.
                log.exception("%s: a delayed action failed", self.name)
