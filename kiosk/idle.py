"""When to ask 还需要更多时间吗？ and when to go home: a small clock-driven state machine.

The app feeds it touches and finished actions and asks `check()` on every
tick; time comes from an injectable monotonic clock (tests advance it). Once
the prompt is shown it stays until the resident answers (`answered()`) or it
runs out: a stray touch on the dimmed background does not dismiss it.
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
        self.prompt_since: float | None = None

    def touched(self) -> None:
        """A touch: the long timeout applies again (an open prompt still needs an answer)."""
        self.last_touch = self.now()
        self.short = False

    def action_finished(self) -> None:
        """An action finished: the short timeout applies from now."""
        self.last_touch = self.now()
        self.short = True

    def answered(self) -> None:
        """The prompt was answered (more time, or home): start counting afresh."""
        self.prompt_since = None
        self.touched()

    @property
    def limit_s(self) -> float:
        return self.after_action_s if self.short else self.timeout_s

    def check(self) -> str:
        now = self.now()
        if self.prompt_since is not None:
            return "expired" if now - self.prompt_since >= self.prompt_s else "prompt"
        if now - self.last_touch >= self.limit_s:
            self.prompt_since = now
            return "prompt"
        return "active"

    def prompt_left_s(self) -> float:
        """Seconds left on the prompt before going home."""
        if self.prompt_since is None:
            return self.prompt_s
        return max(0.0, self.prompt_s - (self.now() - self.prompt_since))
