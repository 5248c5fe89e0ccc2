"""What the kind modules share: the event envelope."""

from __future__ import annotations

from typing import Any

from devices.messages import MessageError, field_of, parse_time


def event_envelope(obj: dict[str, Any], known: tuple[str, ...]) -> tuple[str, str]:
    """The `type` and `ts` of an event object, `type` one of `known`."""
    etype = field_of(obj, "type", str)
    if etype not in known:
        raise MessageError("type: unknown event type")  # the value is not logged
    ts = field_of(obj, "ts", str)
    parse_time(ts)
    return etype, ts
