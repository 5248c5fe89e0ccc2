"""Home Assistant MQTT discovery (optional, `broker.home_assistant_discovery = true`): one
connectivity binary sensor per device, plus a fault sensor, reading the contract's topics."""

from __future__ import annotations

from devices import topics
from devices.messages import encode_json

PREFIX = "homeassistant"
_NAMES = {"door": "Door", "locker": "Parcel lockers", "health": "Health station"}


def messages(building: str, kind: str, device_id: str) -> list[tuple[str, bytes]]:
    """The retained discovery messages (topic, payload) for one device."""
    uid = f"lobby_{building}_{kind}_{device_id}".replace("-", "_")
    availability = topics.device(building, kind, device_id, "availability")
    state = topics.device(building, kind, device_id, "state")
    device = {"identifiers": [uid], "name": f"{_NAMES.get(kind, kind)} {device_id}",
              "manufacturer": "lobby-kiosk", "model": kind, "via_device": f"lobby_{building}"}
    connectivity = {
        "name": "Connectivity", "unique_id": f"{uid}_connectivity", "device_class": "connectivity",
        "state_topic": availability, "payload_on": "online", "payload_off": "offline",
        "entity_category": "diagnostic", "device": device,
    }
    fault = {
        "name": "Fault", "unique_id": f"{uid}_fault", "state_topic": state,
        "value_template": "{{ value_json.fault if value_json.fault else 'none' }}",
        "availability_topic": availability, "payload_available": "online", "payload_not_available": "offline",
        "entity_category": "diagnostic", "icon": "mdi:alert-circle-outline", "device": device,
    }
    return [
        (f"{PREFIX}/binary_sensor/{uid}/connectivity/config", encode_json(connectivity)),
        (f"{PREFIX}/sensor/{uid}/fault/config", encode_json(fault)),
    ]
