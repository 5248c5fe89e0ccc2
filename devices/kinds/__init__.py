"""One module per device kind, each with the same shape (Home Assistant style):

- `KIND`: the contract's kind name;
- `State`: the retained state object (`from_dict`, `to_dict`);
- `parse_event(obj)`: a validated `devices.messages.Event`;
- `check_args(op, args)`: validated command arguments (device side), `MessageError` if wrong;
- `OPS`: the ops the kind answers;
- `Client`: the kiosk-side typed helper (`link.door(id)`, `link.locker(id)`, `link.health(id)`).
"""

from __future__ import annotations

from types import ModuleType

from devices.kinds import door, health, locker

KINDS: dict[str, ModuleType] = {door.KIND: door, locker.KIND: locker, health.KIND: health}


def get(kind: str) -> ModuleType | None:
    """The module of a known kind, or None."""
    return KINDS.get(kind)
