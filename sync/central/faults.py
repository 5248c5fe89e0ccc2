"""Fault injection of the reference central: the failures the sync agent must survive.

Faults apply to the contract's endpoints (`/v1/...`) only, never to the staff
API, so a test can change them while the server runs (`POST /staff/v1/faults`).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sync.errors import InvalidRequest

BAD_RESPONSES = ("malformed_json", "huge", "wrong_content_type", "redirect", "hang")


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often (rates are 0..1 per call)."""

    fail_rate: float = 0.0                 # 500 before doing anything
    busy_rate: float = 0.0                 # 503 with Retry-After before doing anything
    throttle_rate: float = 0.0             # 429 with Retry-After before doing anything
    retry_after_s: int = 1
    slow_ms: int = 0                       # delay before answering
    drop_after_commit_rate: float = 0.0    # do the work, commit, then close without answering
    bad_response: str | None = None        # answer every call with this kind of garbage, doing nothing

    @classmethod
    def from_dict(cls, d: Any) -> Faults:
        """Validate a fault setting from the staff API or the command line."""
        if not isinstance(d, dict):
            raise InvalidRequest("body", "expected a JSON object")
        names = {f.name for f in fields(cls)}
        for key, value in d.items():
            if key not in names:
                raise InvalidRequest(key, "unknown fault")
            if key.endswith("_rate") and (not isinstance(value, int | float) or not 0 <= value <= 1):
                raise InvalidRequest(key, "expected a number 0..1")
            if key in ("retry_after_s", "slow_ms") and (not isinstance(value, int) or not 0 <= value <= 600_000):
                raise InvalidRequest(key, "expected a whole number >= 0")
            if key == "bad_response" and value is not None and value not in BAD_RESPONSES:
                raise InvalidRequest(key, f"must be null or one of {', '.join(BAD_RESPONSES)}")
        return replace(cls(), **d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultDice:
    """The current faults and a seeded random source to decide each call."""

    def __init__(self, faults: Faults, seed: int | None = None) -> None:
        self.faults = faults
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate
