"""Topic names of the building MQTT contract (`lobby/v1/B/KIND/ID/LEAF`) and their parsing."""

from __future__ import annotations

import re
from typing import NamedTuple

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
DEVICE_LEAVES = ("availability", "state", "event", "cmd")
KIOSK_LEAVES = ("availability", "state", "reply")
KIOSK = "kiosk"
SIM_CONTROL = "_sim"  # simulator-only fault control, outside the contract's KIND namespace


class Topic(NamedTuple):
    """A parsed contract topic."""

    building: str
    kind: str
    id: str
    leaf: str


def root(building: str) -> str:
    """`lobby/v1/B` for building B."""
    return f"lobby/v1/{building}"


def device(building: str, kind: str, device_id: str, leaf: str) -> str:
    """The topic of one device's `availability`, `state`, `event` or `cmd`."""
    return f"lobby/v1/{building}/{kind}/{device_id}/{leaf}"


def kiosk(building: str, kiosk_id: str, leaf: str) -> str:
    """The topic of one kiosk's `availability`, `state` or `reply`."""
    return f"lobby/v1/{building}/{KIOSK}/{kiosk_id}/{leaf}"


def sim_fault(building: str, device_id: str) -> str:
    """Simulator-only: the topic that injects a fault into simulated device `device_id`."""
    return f"lobby/v1/{building}/{SIM_CONTROL}/{device_id}/fault"


def parse(topic: str, building: str) -> Topic | None:
    """Split a contract topic of `building`; None if it is not one (wrong root, bad id, leaf)."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "lobby" or parts[1] != "v1" or parts[2] != building:
        return None
    _, _, b, kind, device_id, leaf = parts
    if not ID_PATTERN.match(kind) or not ID_PATTERN.match(device_id):
        return None
    if leaf not in (KIOSK_LEAVES if kind == KIOSK else DEVICE_LEAVES):
        return None
    return Topic(b, kind, device_id, leaf)


def valid_id(value: str) -> bool:
    """True if `value` is a valid building, device or kiosk id."""
    return bool(ID_PATTERN.match(value))
