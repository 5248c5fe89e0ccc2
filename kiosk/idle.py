"""When to ask 还需要更多时间吗？ and when to go home: a small clock-driven state machine.

The app feeds it touches and finished actions and asks `check()` on every
tick; time comes from an injectable monotonic clock (tests advance it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

PROMPT_S = 15.0  # how long 还需要更多时间吗？ waits for an answer


class IdleTimer:
    """Tracks the last touch. `check()` returns "active", "prompt" or "expired"."""

    def __init__(self, timeout_s: float, after_action_s: float, prompt_s: float = PROMPT_S,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self.after_action_s = after_action_s
        self.prompt_s = prompt_s
        self.now = now
        self.last_touch = now()
        self.short = False

    def touched(self) -> None:
        """A touch: the long timeout applies again."""
        self.last_touch = self.now()
        self.short = False

    def action_finished(self) -> None:
        """An action finished: the short timeout applies from now."""
        self.last_touch = self.now()
        self.short = True

    @property
    def limit_s(self) -> float:
        return self.after_action_s if self.short else self.timeout_s

    def idle_s(self) -> float:
        return self.now() - self.last_touch

    def check(self) -> str:
        idle = self.idle_s()
        if idle >= self.limit_s + self.prompt_s:
            return "expired"
        if idle >= self.limit_s:
            return "prompt"
        return "active"

    def prompt_left_s(self) -> float:
        """Seconds left on the prompt before going home."""
        return max(0.0, self.limit_s + self.prompt_s - self.idle_s())
