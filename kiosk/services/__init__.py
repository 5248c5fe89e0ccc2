"""The service layer between the screens and voice/, devices/, sync/ (docs/kiosk.md).

Nothing here blocks the Kivy main loop: subsystem calls run on worker threads
and results come back with Clock.schedule_once. The layer starts even when a
subsystem is unavailable (no voice model, broker down, central unreachable)
and says why through `availability()`.
"""

from __future__ import annotations

from kiosk.services.errors import Unavailable, failure_key
from kiosk.services.layer import Availability, Services

__all__ = ["Availability", "Services", "Unavailable", "failure_key"]
