"""Health-monitor stations (blood pressure): state, events, ops and the kiosk-side helper."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devices.kinds._common import event_envelope
from devices.messages import Event, MessageError, Reading, fault_of, field_of, now_iso, parse_time

if TYPE_CHECKING:
    from devices.link import BuildingLink

KIND = "health"
OPS = ("measure", "status")
EVENTS = ("reading", "measurement_failed")


@dataclass(frozen=True)
class State:
    """`{"ready", "cuff_connected", "fault", "ts"}`."""

    ready: bool = True
    cuff_connected: bool = True
    fault: str | None = None
    ts: str = ""

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> State:
        ts = field_of(obj, "ts", str)
        parse_time(ts)
        return cls(field_of(obj, "ready", bool), field_of(obj, "cuff_connected", bool), fault_of(obj), ts)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "cuff_connected": self.cuff_connected, "fault": self.fault,
                "ts": self.ts or now_iso()}


def parse_event(obj: dict[str, Any]) -> Event:
    etype, ts = event_envelope(obj, EVENTS)
    if etype == "reading":
        return Event(etype, ts, Reading.from_fields(obj).to_fields())
    code = field_of(obj, "code", str)
    if not 0 < len(code) <= 64:
        raise MessageError("code: expected a short code")
    return Event(etype, ts, {"code": code})


def check_args(op: str, args: dict[str, Any]) -> dict[str, Any]:
    return {}


class Client:
    """`link.health(id)`: typed commands to one health station."""

    def __init__(self, link: BuildingLink, device_id: str) -> None:
        self._link, self.id = link, device_id

    def measure(self, *, force: bool = False) -> Future[Reading]:
        """Start a measurement; the future's result is the next `reading` event as a `Reading`,
        or it fails with `DeviceError(code)` on `measurement_failed`, or `Timeout`."""
        return self._link.measure(self.id, force=force)

    def status(self, *, force: bool = False) -> Future[dict[str, Any]]:
        """The station's state object, fresh from the device."""
        return self._link.status(KIND, self.id, force=force)
