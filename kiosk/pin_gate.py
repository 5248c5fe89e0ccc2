"""The technician PIN gate: verify against [technician] pin_hash, lock out after repeated failures.

Failures and the lock-out are persisted in `<state_dir>/technician-lock.json`,
so restarting the kiosk does not reset them. The PIN itself is never stored
or logged.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.pin import verify_pin

log = logging.getLogger(__name__)
MAX_FAILURES = 5
LOCK_S = 300.0
FILE_NAME = "technician-lock.json"


@dataclass(frozen=True)
class PinResult:
    """Outcome of one attempt: "ok", "wrong" (attempts_left), "locked" (remaining_s) or "no_pin"."""

    outcome: str
    attempts_left: int = 0
    remaining_s: float = 0.0


class PinGate:
    """Checks technician PINs; `clock` is wall time (a lock-out survives restarts)."""

    def __init__(self, pin_hash: str | None, state_dir: str | os.PathLike[str], *,
                 max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.pin_hash = pin_hash
        self.path = Path(state_dir) / FILE_NAME
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.clock = clock

    def _load(self) -> tuple[int, float]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            return int(doc.get("failures", 0)), float(doc.get("locked_until", 0.0))
        except FileNotFoundError:
            return 0, 0.0
        except (OSError, ValueError, TypeError, AttributeError) as err:
            # A damaged file must not unlock the gate: treat it as a fresh lock-out.
            log.warning("technician lock file %s unreadable (%s); locking", self.path, type(err).__name__)
            return self.max_failures, self.clock() + self.lock_s

    def _save(self, failures: int, locked_until: float) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".technician-lock-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"failures": failures, "locked_until": locked_until}, f)
            os.replace(tmp, self.path)
        except OSError as err:
            log.warning("cannot persist the technician lock-out in %s: %s", self.path, err)

    def remaining_s(self) -> float:
        """Seconds left of a lock-out, 0 when PINs may be tried."""
        _failures, until = self._load()
        return max(0.0, until - self.clock())

    def check(self, pin: str) -> PinResult:
        """Verify one PIN attempt (slow on purpose: PBKDF2; call it on a worker thread)."""
        if not self.pin_hash:
            return PinResult("no_pin")
        failures, until = self._load()
        now = self.clock()
        if until > now:
            return PinResult("locked", remaining_s=until - now)
        if until:
            failures = 0  # an expired lock-out starts a new count
        try:
            ok = verify_pin(pin, self.pin_hash)
        except ValueError:
            ok = False
        if ok:
            self._save(0, 0.0)
            return PinResult("ok")
        failures += 1
        if failures >= self.max_failures:
            log.warning("technician PIN: %d wrong attempts, locked for %d s", failures, int(self.lock_s))
            self._save(failures, now + self.lock_s)
            return PinResult("locked", remaining_s=self.lock_s)
        self._save(failures, 0.0)
        return PinResult("wrong", attempts_left=self.max_failures - failures)
