"""Rate-limited warnings: a flood of bad messages gives a few log lines, not a full disk."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

MAX_KEYS = 256


class ThrottledLog:
    """Log at most `burst` lines per `period_s` per key; count what was suppressed and say so later."""

    def __init__(self, logger: logging.Logger, period_s: float = 10.0, burst: int = 5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._clock = clock
        self._period = period_s
        self._burst = burst
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int, int]] = {}  # key -> (window start, logged, suppressed)
        self.dropped = 0

    def warning(self, key: str, msg: str, *args: object) -> None:
        """One warning line for a dropped message, unless this key is over its budget."""
        now = self._clock()
        with self._lock:
            self.dropped += 1
            if key not in self._windows and len(self._windows) >= MAX_KEYS:
                self._windows.clear()  # keys come from the network: keep the table bounded
            start, logged, suppressed = self._windows.get(key, (now, 0, 0))
            if now - start >= self._period:
                if suppressed:
                    self._logger.warning("%d more like '%s' were dropped without a log line", suppressed, key)
                start, logged, suppressed = now, 0, 0
            if logged < self._burst:
                self._windows[key] = (start, logged + 1, suppressed)
                emit = True
            else:
                self._windows[key] = (start, logged, suppressed + 1)
                emit = False
        if emit:
            self._logger.warning(msg, *args)
