"""Parcel-locker banks: state, events, ops and the kiosk-side helper."""

from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devices.errors import InvalidArgument
from devices.kinds._common import event_envelope
from devices.messages import (
    PICKUP_CODE,
    Event,
    MessageError,
    fault_of,
    field_of,
    now_iso,
    parse_time,
)

if TYPE_CHECKING:
    from devices.link import BuildingLink

KIND = "locker"
OPS = ("pickup", "open", "status")
EVENTS = ("door_opened", "door_closed")
COMPARTMENT = re.compile(r"^[A-Z][0-9]{2,3}$")
MAX_COMPARTMENTS = 512


@dataclass(frozen=True)
class Compartment:
    occupied: bool = False
    door_open: bool = False


@dataclass(frozen=True)
class State:
    """`{"compartments": {"A01": {"occupied", "door_open"}, ...}, "fault", "ts"}`."""

    compartments: dict[str, Compartment] = field(default_factory=dict)
    fault: str | None = None
    ts: str = ""

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> State:
        raw = field_of(obj, "compartments", dict)
        if len(raw) > MAX_COMPARTMENTS:
            raise MessageError("compartments: too many")
        compartments = {}
        for name, value in raw.items():
            if not COMPARTMENT.match(name):
                raise MessageError("compartments: bad compartment name")
            if not isinstance(value, dict):
                raise MessageError("compartments: expected objects")
            compartments[name] = Compartment(field_of(value, "occupied", bool), field_of(value, "door_open", bool))
        ts = field_of(obj, "ts", str)
        parse_time(ts)
        return cls(compartments, fault_of(obj), ts)

    def to_dict(self) -> dict[str, Any]:
        return {"compartments": {name: {"occupied": c.occupied, "door_open": c.door_open}
                                 for name, c in self.compartments.items()},
                "fault": self.fault, "ts": self.ts or now_iso()}


def parse_event(obj: dict[str, Any]) -> Event:
    etype, ts = event_envelope(obj, EVENTS)
    compartment = field_of(obj, "compartment", str)
    if not COMPARTMENT.match(compartment):
        raise MessageError("compartment: bad name")
    return Event(etype, ts, {"compartment": compartment})


def check_args(op: str, args: dict[str, Any]) -> dict[str, Any]:
    if op == "pickup":
        code = field_of(args, "code", str)
        if not PICKUP_CODE.match(code):
            raise MessageError("code: expected six digits")
        return {"code": code}
    if op == "open":
        compartment = field_of(args, "compartment", str)
        if not COMPARTMENT.match(compartment):
            raise MessageError("compartment: bad name")
        return {"compartment": compartment}
    return {}


def compartment_names(count: int, per_column: int = 12) -> list[str]:
    """`A01`..`A12`, `B01`.. : the names a bank of `count` compartments uses (columns grow past
    12 compartments when 26 columns are not enough)."""
    per_column = max(per_column, -(-count // 26))
    return [f"{chr(ord('A') + i // per_column)}{i % per_column + 1:02d}" for i in range(count)]


class Client:
    """`link.locker(id)`: typed commands to one locker bank."""

    def __init__(self, link: BuildingLink, device_id: str) -> None:
        self._link, self.id = link, device_id

    def pickup(self, code: str, *, force: bool = False) -> Future[dict[str, Any]]:
        """Pick up with `code` at this bank only (guarded like `link.pickup`)."""
        return self._link.pickup(code, banks=[self.id], force=force)

    def open(self, compartment: str, *, force: bool = False) -> Future[dict[str, Any]]:
        """Open one compartment (technicians); the future's result is `{}`."""
        if not isinstance(compartment, str) or not COMPARTMENT.match(compartment):
            raise InvalidArgument("compartment must look like A12")
        return self._link.command(KIND, self.id, "open", {"compartment": compartment}, force=force)

    def status(self, *, force: bool = False) -> Future[dict[str, Any]]:
        """The bank's state object, fresh from the device."""
        return self._link.status(KIND, self.id, force=force)
