"""Masking of personal numbers for display: rooms and phone numbers on a lobby screen that
anyone passing can read. (Written by FLOWS when kiosk/mask.py was still missing; CORE owns it.)

- `mask_phone("13812345678")` -> "138****5678" (the usual Chinese form: first 3, last 4);
  shorter numbers keep only their last two digits.
- `mask_room("1201")` -> "**01", `mask_room("3-2-301")` -> "*-*-*01": every digit but the last
  two is hidden, separators stay, so residents recognise their own request.
"""

from __future__ import annotations

MASK = "*"


def mask_phone(phone: str | None) -> str:
    """A phone number with its middle digits hidden ('' for None/empty)."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 11:
        return digits[:3] + MASK * (len(digits) - 7) + digits[-4:]
    return _keep_last(digits, 2)


def mask_room(room: str | None) -> str:
    """A room number with all but its last two digits hidden ('' for None/empty)."""
    if not room:
        return ""
    return _keep_last(room.strip(), 2)


def _keep_last(text: str, keep: int) -> str:
    """Hide every digit (and letter) except the last `keep` of them; separators stay."""
    positions = [i for i, ch in enumerate(text) if ch.isalnum()]
    hidden = set(positions[:-keep] if keep else positions)
    if len(positions) <= keep:            # too short to keep anything: hide all but one
        hidden = set(positions[:-1])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(text))
