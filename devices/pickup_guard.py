"""Brute-force protection for parcel pick-up: 5 wrong codes within 10 minutes lock pick-up for
5 minutes. The counter lives in `<state_dir>/pickup-guard.json`, written atomically, so an app
restart does not reset it. Wall-clock time, because it must survive restarts."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MAX_WRONG = 5
WINDOW_S = 600.0
LOCKOUT_S = 300.0


class PickupGuard:
    """Counts wrong pick-up codes on this kiosk. No I/O until first used."""

    def __init__(self, path: str | os.PathLike[str], *, max_wrong: int = MAX_WRONG, window_s: float = WINDOW_S,
                 lockout_s: float = LOCKOUT_S, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_wrong, self.window_s, self.lockout_s = max_wrong, window_s, lockout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong: list[float] | None = None  # times of wrong codes within the window
        self._locked_until = 0.0

    def _load(self) -> None:
        if self._wrong is not None:
            return
        self._wrong = []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._wrong = [float(t) for t in data.get("wrong", []) if isinstance(t, int | float)]
            locked = data.get("locked_until", 0)
            self._locked_until = float(locked) if isinstance(locked, int | float) else 0.0
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as err:
            # Fail closed: an unreadable counter starts a lock-out rather than forgetting attempts.
            log.warning("pick-up counter %s unreadable (%s); locking pick-up for %.0f s",
                        self.path, type(err).__name__, self.lockout_s)
            self._locked_until = self._clock() + self.lockout_s

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"wrong": self._wrong, "locked_until": self._locked_until})
        fd, tmp = tempfile.mkstemp(prefix=".pickup-guard.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def lockout_remaining(self) -> float:
        """Seconds left of the current lock-out, or 0."""
        with self._lock:
            self._load()
            return max(0.0, self._locked_until - self._clock())

    def attempts_left(self) -> int:
        """Wrong codes still allowed before the lock-out starts."""
        with self._lock:
            self._load()
            assert self._wrong is not None
            now = self._clock()
            return max(0, self.max_wrong - sum(1 for t in self._wrong if now - t < self.window_s))

    def record_wrong(self) -> int:
        """Count one wrong code (persisted before returning); return attempts left (0 = now locked)."""
        with self._lock:
            self._load()
            now = self._clock()
            self._wrong = [t for t in (self._wrong or []) if now - t < self.window_s] + [now]
            if len(self._wrong) >= self.max_wrong:
                self._locked_until = now + self.lockout_s
                self._wrong = []
                log.warning("pick-up locked for %.0f s after %d wrong codes", self.lockout_s, self.max_wrong)
            try:
                self._save()
            except OSError as err:
                log.error("cannot persist the pick-up counter %s: %s", self.path, err)
            return 0 if self._locked_until > now else self.max_wrong - len(self._wrong)
