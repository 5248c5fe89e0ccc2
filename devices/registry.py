"""The device registry: what the kiosk knows of every device of its building, fed by the link."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

UNKNOWN, ONLINE, OFFLINE = "unknown", "online", "offline"


@dataclass(frozen=True)
class DeviceInfo:
    """One device as the kiosk last saw it. `state` and `last_event` are validated contract objects."""

    kind: str
    id: str
    availability: str = UNKNOWN
    state: dict[str, Any] | None = None
    last_event: dict[str, Any] | None = None
    last_seen: float | None = None
    fault: str | None = None


@dataclass(frozen=True)
class KioskInfo:
    """Another (or this) kiosk of the building, from its retained topics."""

    id: str
    availability: str = UNKNOWN
    state: dict[str, Any] | None = None
    last_seen: float | None = None


class Registry:
    """Thread-safe map of (kind, id) -> DeviceInfo. Each update returns the new info, or None if
    nothing changed. Only the link writes; anyone may read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._devices: dict[tuple[str, str], DeviceInfo] = {}
        self._kiosks: dict[str, KioskInfo] = {}

    def _update(self, kind: str, device_id: str, now: float, field: str, value: Any,
                fault: Any = None) -> DeviceInfo | None:
        # Hot path (every received message): build the new record directly, no dataclasses.replace.
        with self._lock:
            old = self._devices.get((kind, device_id))
            if old is None:
                old = DeviceInfo(kind, device_id)
            values = {"availability": old.availability, "state": old.state, "last_event": old.last_event,
                      "fault": old.fault}
            changed = values[field] != value or (field == "state" and old.fault != fault)
            values[field] = value
            if field == "state":
                values["fault"] = fault
            new = DeviceInfo(kind, device_id, values["availability"], values["state"], values["last_event"],
                             now, values["fault"])
            self._devices[(kind, device_id)] = new
        return new if changed else None

    def set_availability(self, kind: str, device_id: str, availability: str, now: float) -> DeviceInfo | None:
        return self._update(kind, device_id, now, "availability", availability)

    def set_state(self, kind: str, device_id: str, state: dict[str, Any], now: float) -> DeviceInfo | None:
        return self._update(kind, device_id, now, "state", state, state.get("fault"))

    def set_event(self, kind: str, device_id: str, event: dict[str, Any], now: float) -> DeviceInfo | None:
        return self._update(kind, device_id, now, "last_event", event)

    def set_kiosk(self, kiosk_id: str, now: float, **changes: Any) -> None:
        with self._lock:
            old = self._kiosks.get(kiosk_id) or KioskInfo(kiosk_id)
            self._kiosks[kiosk_id] = replace(old, last_seen=now, **changes)

    def get(self, kind: str, device_id: str) -> DeviceInfo | None:
        with self._lock:
            return self._devices.get((kind, device_id))

    def snapshot(self, kind: str | None = None) -> list[DeviceInfo]:
        """Every device (of `kind`, if given), sorted by kind and id."""
        with self._lock:
            items = [d for d in self._devices.values() if kind is None or d.kind == kind]
        return sorted(items, key=lambda d: (d.kind, _natural(d.id)))

    def kiosks(self) -> list[KioskInfo]:
        """Every kiosk seen on the building's broker, sorted by id."""
        with self._lock:
            return sorted(self._kiosks.values(), key=lambda k: _natural(k.id))

    def __len__(self) -> int:
        with self._lock:
            return len(self._devices)


def _natural(device_id: str) -> tuple:
    """Sort `door-2` before `door-10`."""
    head, _, tail = device_id.rpartition("-")
    return (head, int(tail), "") if tail.isdigit() else (device_id, 0, device_id)
