"""Home Assistant discovery (off by default): each device appears with its availability."""

import json

from tests.devices.conftest import BUILDING, broker_settings, mqtt_sub, wait_until


def test_discovery_messages_for_every_device(mosquitto, make_sim, make_link):
    make_sim(doors=1, lockers=1, health=1)
    link = make_link(broker=broker_settings(mosquitto, home_assistant_discovery=True))
    assert wait_until(lambda: len(link.registry.snapshot()) == 3)
    lines = mqtt_sub(mosquitto, "homeassistant/#", 6, 5)
    configs = {topic: json.loads(payload) for topic, payload in (line.split(" ", 1) for line in lines)}
    door = configs["homeassistant/binary_sensor/lobby_bldg_1_door_door_1/connectivity/config"]
    assert door["state_topic"] == f"lobby/v1/{BUILDING}/door/door-1/availability"
    assert (door["payload_on"], door["payload_off"], door["device_class"]) == ("online", "offline", "connectivity")
    fault = configs["homeassistant/sensor/lobby_bldg_1_locker_locker_1/fault/config"]
    assert fault["state_topic"] == f"lobby/v1/{BUILDING}/locker/locker-1/state"
    assert fault["availability_topic"] == f"lobby/v1/{BUILDING}/locker/locker-1/availability"
    assert len({c["unique_id"] for c in configs.values()}) == 6


def test_no_discovery_unless_switched_on(mosquitto, make_sim, make_link):
    make_sim(doors=1, lockers=0, health=0)
    link = make_link()
    assert wait_until(lambda: len(link.registry.snapshot()) == 1)
    assert mqtt_sub(mosquitto, "homeassistant/#", 1, 1) == []
