"""Door-access controllers: state, events, ops and the kiosk-side helper."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devices.errors import InvalidArgument
from devices.kinds._common import event_envelope
from devices.messages import Event, MessageError, fault_of, field_of, int_in, now_iso, parse_time

if TYPE_CHECKING:
    from devices.link import BuildingLink

KIND = "door"
OPS = ("unlock", "status")
METHODS = ("face", "card", "pin", "remote")
EVENTS = ("access_granted", "access_denied", "door_forced", "door_held_open")


@dataclass(frozen=True)
class State:
    """`{"locked", "door_open", "fault", "ts"}`."""

    locked: bool = True
    door_open: bool = False
    fault: str | None = None
    ts: str = ""

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> State:
        ts = field_of(obj, "ts", str)
        parse_time(ts)
        return cls(field_of(obj, "locked", bool), field_of(obj, "door_open", bool), fault_of(obj), ts)

    def to_dict(self) -> dict[str, Any]:
        return {"locked": self.locked, "door_open": self.door_open, "fault": self.fault,
                "ts": self.ts or now_iso()}


def parse_event(obj: dict[str, Any]) -> Event:
    etype, ts = event_envelope(obj, EVENTS)
    fields: dict[str, Any] = {}
    if etype in ("access_granted", "access_denied"):
        method = field_of(obj, "method", str)
        if method not in METHODS:
            raise MessageError("method: expected face, card, pin or remote")
        fields["method"] = method
    return Event(etype, ts, fields)


def check_args(op: str, args: dict[str, Any]) -> dict[str, Any]:
    if op == "unlock":
        return {"seconds": int_in(args, "seconds", 1, 30)}
    return {}


class Client:
    """`link.door(id)`: typed commands to one door controller."""

    def __init__(self, link: BuildingLink, device_id: str) -> None:
        self._link, self.id = link, device_id

    def unlock(self, seconds: int = 5, *, force: bool = False) -> Future[dict[str, Any]]:
        """Unlock for `seconds` (1..30); the future's result is `{}`."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= 30:
            raise InvalidArgument("unlock seconds must be an integer 1..30")
        return self._link.command(KIND, self.id, "unlock", {"seconds": seconds}, force=force)

    def status(self, *, force: bool = False) -> Future[dict[str, Any]]:
        """The door's state object, fresh from the device."""
        return self._link.status(KIND, self.id, force=force)
