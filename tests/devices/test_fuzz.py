"""10,000 random and malformed messages on every topic: nothing crashes, the registry keeps only
valid data, and a normal pick-up still works afterwards."""

import json
import random

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from devices.kinds import KINDS
from devices.messages import MAX_PAYLOAD
from tests.devices.conftest import BUILDING, wait_until

N = 10_000
ROOT = f"lobby/v1/{BUILDING}"


def _payload(rng: random.Random, leaf: str) -> bytes:
    """Something a broken or hostile client might send; never a valid message for `leaf`."""
    choice = rng.randrange(12)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if choice == 1:
        return b"{" * rng.randrange(1, 2000)  # deep / broken nesting
    if choice == 2:
        return json.dumps({"pad": "x" * (MAX_PAYLOAD + 10)}).encode()  # over 64 KiB
    if choice == 3:
        return rng.choice([b"", b"ONLINE", b"1", b"true", b"null", b"[]", b'"online"', b"online\x00"])
    if choice == 4:
        return json.dumps(rng.choice([[1, 2], "x", 3.5, None, True])).encode()
    if choice == 5:  # a door state with wrong types
        return json.dumps({"locked": "yes", "door_open": 0, "fault": None, "ts": "2026-01-01T00:00:00Z"}).encode()
    if choice == 6:  # a locker state with a bad compartment
        return json.dumps({"compartments": {"A01": {"occupied": 1, "door_open": False}}, "fault": None,
                           "ts": "2026-01-01T00:00:00Z"}).encode()
    if choice == 7:  # a health state without ts
        return json.dumps({"ready": True, "cuff_connected": True, "fault": None}).encode()
    if choice == 8:  # readings out of range
        return json.dumps({"type": "reading", "ts": "2026-01-01T00:00:00Z", "systolic": rng.choice([0, 999, -5]),
                           "diastolic": 80, "pulse": 70, "irregular": False}).encode()
    if choice == 9:  # unknown event / reply with wrong types
        return json.dumps({"type": "explode", "ts": "2026-01-01T00:00:00Z", "id": 7, "ok": "maybe"}).encode()
    if choice == 10:  # bad time
        return json.dumps({"locked": True, "door_open": False, "fault": None, "ts": "yesterday",
                           "type": "door_forced"}).encode()
    return "非法的数据".encode("gbk")


def _topic(rng: random.Random) -> str:
    kind = rng.choice(["door", "locker", "health", "kiosk", "elevator", "Door", "door/x"])
    device = rng.choice(["door-1", "locker-1", "health-1", "kiosk-1", "kiosk-2", "x" * 40, "-bad", "new-1"])
    leaf = rng.choice(["availability", "state", "event", "cmd", "reply", "junk"])
    return f"{ROOT}/{kind}/{device}/{leaf}"


def _counts(topic: str) -> bool:
    """Whether the link receives `topic` (it subscribes to +/+/{availability,state,event} and its reply)."""
    parts = topic.split("/")
    return len(parts) == 6 and (parts[5] in ("availability", "state", "event") or
                                topic == f"{ROOT}/kiosk/kiosk-1/reply")


def test_ten_thousand_bad_messages(mosquitto, make_sim, make_link):
    make_sim(doors=1, lockers=1, health=1, codes=["123456"])
    link = make_link()
    assert wait_until(lambda: len(link.registry.snapshot()) == 3 and all(
        d.state is not None for d in link.registry.snapshot()))
    before = {(d.kind, d.id): (d.availability, d.state) for d in link.registry.snapshot()}
    received0 = link.received

    rng = random.Random(20261122)
    fuzzer = paho.Client(CallbackAPIVersion.VERSION2, client_id="fuzzer")
    fuzzer.connect(mosquitto.host, mosquitto.port)
    fuzzer.loop_start()
    expected = 0
    info = None
    for _ in range(N):
        topic = _topic(rng)
        retain = topic.endswith(("/availability", "/state")) and rng.random() < 0.2
        expected += _counts(topic)
        info = fuzzer.publish(topic, _payload(rng, topic.rsplit("/", 1)[-1]), qos=1 if rng.random() < 0.5 else 0,
                              retain=retain)
    expected += 1
    info = fuzzer.publish(f"{ROOT}/door/door-1/state", b"{" + b" " * (10 * 1024 * 1024) + b"}", qos=1)  # 10 MB
    info.wait_for_publish(30)
    assert wait_until(lambda: link.received - received0 >= expected * 0.99, timeout=30)  # QoS 0 may drop a few
    fuzzer.loop_stop()
    fuzzer.disconnect()

    assert link.dropped >= expected * 0.99
    snap = link.registry.snapshot()
    assert {(d.kind, d.id) for d in snap} == set(before)  # no device invented by garbage
    for d in snap:
        assert (d.availability, d.state) == before[(d.kind, d.id)]
        KINDS[d.kind].State.from_dict(d.state)  # still valid contract data
    assert [k.id for k in link.registry.kiosks()] == ["kiosk-1"]
    assert link.pickup("123456").result(5) == {"locker": "locker-1", "compartment": "A01"}
