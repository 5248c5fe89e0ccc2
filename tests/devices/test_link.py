"""The kiosk's BuildingLink against a real broker and simulated devices."""

import json
import signal
import threading
import time
from concurrent.futures import Future

import pytest

from devices.errors import (
    DeviceError,
    InvalidArgument,
    InvalidCode,
    Offline,
    PickupLocked,
    Timeout,
    WrongCode,
)
from devices.messages import Reading
from tests.devices.conftest import BUILDING, mqtt_pub, mqtt_sub, wait_until

KIOSK_TOPIC = f"lobby/v1/{BUILDING}/kiosk/kiosk-1"


def online(link, *ids):
    return all((d := _info(link, i)) is not None and d.availability == "online" for i in ids)


def _info(link, device_id):
    return next((d for d in link.registry.snapshot() if d.id == device_id), None)


def test_registry_learns_every_device_from_retained_topics(make_sim, make_link):
    make_sim(doors=2, lockers=2, compartments=12, health=1)
    link = make_link()
    assert wait_until(lambda: len(link.registry.snapshot()) == 5 and all(
        d.state is not None for d in link.registry.snapshot()))
    snap = link.registry.snapshot()
    assert [(d.kind, d.id) for d in snap] == [("door", "door-1"), ("door", "door-2"), ("health", "health-1"),
                                              ("locker", "locker-1"), ("locker", "locker-2")]
    assert all(d.availability == "online" and d.fault is None and d.last_seen for d in snap)
    assert len(snap[3].state["compartments"]) == 12


def test_pickup_tries_every_bank_and_counts_one_wrong_attempt(make_sim, make_link):
    make_sim(lockers=2, compartments=12, codes=["111111", "222222"], doors=0, health=0)
    link = make_link()
    assert wait_until(lambda: online(link, "locker-1", "locker-2"))
    assert link.pickup("222222").result(5) == {"locker": "locker-2", "compartment": "A01"}
    assert link.pickup("111111").result(5) == {"locker": "locker-1", "compartment": "A01"}
    with pytest.raises(WrongCode) as err:
        link.pickup("111111").result(5)  # each code opens once
    assert err.value.code == "bad_code" and err.value.attempts_left == 4  # two banks said no: one attempt
    assert wait_until(lambda: (_info(link, "locker-2").last_event or {}).get("compartment") == "A01")
    assert _info(link, "locker-2").last_event["type"] in ("door_opened", "door_closed")


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "", " 123456", 123456, None, "１２３４５６"])
def test_malformed_codes_never_reach_the_wire(make_link, code):
    link = make_link()
    with pytest.raises(InvalidCode):
        link.pickup(code)
    assert link.pickup_lockout_remaining() == 0


def test_lockout_after_five_wrong_codes_survives_a_new_link(make_sim, make_link, tmp_path):
    make_sim(lockers=1, doors=0, health=0, codes=["123456"])
    state = tmp_path / "kiosk-state"
    link = make_link(state_dir=state)
    assert wait_until(lambda: online(link, "locker-1"))
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(WrongCode) as err:
            link.pickup("000000").result(5)
        assert err.value.attempts_left == left
    with pytest.raises(PickupLocked) as locked:
        link.pickup("123456")  # even the right code: refused before it goes on the wire
    assert 290 < locked.value.retry_after_s <= 300
    link.stop()
    again = make_link(state_dir=state)  # the app restarted
    assert 280 < again.pickup_lockout_remaining() <= 300
    with pytest.raises(PickupLocked):
        again.pickup("123456")


def test_door_unlock_and_listener_thread(make_sim, make_link):
    make_sim(doors=1, lockers=0, health=0)
    link = make_link()
    seen: list[tuple[str, str]] = []
    link.add_listener(lambda info: seen.append((threading.current_thread().name, info.state and info.state["locked"])))
    assert wait_until(lambda: online(link, "door-1"))
    assert link.door("door-1").unlock(1).result(5) == {}
    assert wait_until(lambda: (f"devices-link-{BUILDING}-worker", False) in seen)
    assert wait_until(lambda: _info(link, "door-1").state["locked"] is True, timeout=5)  # relocked after 1 s
    assert _info(link, "door-1").last_event["type"] == "access_granted"
    assert link.status("door", "door-1").result(5)["locked"] is True
    with pytest.raises(InvalidArgument):
        link.door("door-1").unlock(31)


def test_health_measure_returns_the_next_reading(make_sim, make_link):
    make_sim(doors=0, lockers=0, health=1, measure_seconds=0.3)
    link = make_link()
    assert wait_until(lambda: online(link, "health-1"))
    reading = link.health("health-1").measure().result(5)
    assert isinstance(reading, Reading)
    assert 50 <= reading.diastolic < reading.systolic <= 300 and 30 <= reading.pulse <= 250
    assert _info(link, "health-1").last_event["systolic"] == reading.systolic


def test_faults_map_to_typed_errors(make_sim, make_link):
    sim = make_sim(doors=1, lockers=1, health=1, codes=["123456"])
    link = make_link(timeout_s=1.0)
    assert wait_until(lambda: online(link, "door-1", "locker-1", "health-1"))

    sim.set_fault("locker-1", "jam")
    assert wait_until(lambda: _info(link, "locker-1").fault == "jammed")
    with pytest.raises(DeviceError) as err:
        link.locker("locker-1").open("A01").result(5)
    assert err.value.code == "jammed"
    with pytest.raises(DeviceError) as err:
        link.pickup("123456").result(5)
    assert err.value.code == "jammed" and not isinstance(err.value, WrongCode)
    assert link._guard.attempts_left() == 5  # a jam is not a wrong code

    sim.set_fault("door-1", "offline")
    assert wait_until(lambda: _info(link, "door-1").availability == "offline")
    refused = link.door("door-1").unlock(2)
    assert refused.done() and isinstance(refused.exception(), Offline)  # at once, not after the timeout
    with pytest.raises(Timeout):
        link.door("door-1").unlock(2, force=True).result(5)  # sent anyway; an offline device is silent

    sim.set_fault("health-1", "slow:1.5")
    late = link.status("health", "health-1")
    with pytest.raises(Timeout):
        late.result(5)
    dropped = link.dropped
    assert wait_until(lambda: link.dropped == dropped + 1, timeout=3)  # the late reply, dropped with a log line
    sim.set_fault("health-1", "none")
    assert link.status("health", "health-1").result(5)["ready"] is True


def test_malformed_device_output_never_reaches_the_registry(make_sim, make_link):
    sim = make_sim(doors=1, lockers=0, health=0)
    link = make_link(timeout_s=1.0)
    assert wait_until(lambda: online(link, "door-1") and _info(link, "door-1").state)
    before = _info(link, "door-1").state
    sim.set_fault("door-1", "malformed")
    with pytest.raises(Timeout):
        link.door("door-1").unlock(1).result(5)  # the reply was garbage: dropped, so it times out
    assert link.dropped >= 2  # garbage state and garbage reply
    assert _info(link, "door-1").state == before


def test_a_reply_is_acted_on_once(mosquitto, make_link):
    """An outside client (mosquitto_sub/pub) plays the device and answers twice."""
    link = make_link()
    box: dict[str, Future] = {}
    lines = mqtt_sub(mosquitto, f"lobby/v1/{BUILDING}/door/door-9/cmd", 1, verbose=False,
                     ready=lambda: box.setdefault("f", link.door("door-9").unlock(3)))
    cmd = json.loads(lines[0])
    assert cmd["op"] == "unlock" and cmd["args"] == {"seconds": 3} and cmd["reply_to"] == f"{KIOSK_TOPIC}/reply"
    dropped = link.dropped
    mqtt_pub(mosquitto, cmd["reply_to"], json.dumps({"id": cmd["id"], "ok": True, "result": {"n": 1}}))
    mqtt_pub(mosquitto, cmd["reply_to"], json.dumps({"id": cmd["id"], "ok": False,
                                                      "error": {"code": "jammed", "message": ""}}))
    assert box["f"].result(5) == {"n": 1}
    assert wait_until(lambda: link.dropped == dropped + 1)


def test_kiosk_availability_state_and_last_will(mosquitto, make_link):
    link = make_link()
    link.publish_kiosk_state(voice_ready=True, outbox_depth=2, oldest_pending_s=30.0)
    lines = mqtt_sub(mosquitto, f"{KIOSK_TOPIC}/+", 2)
    got = dict(line.split(" ", 1) for line in lines)
    assert got[f"{KIOSK_TOPIC}/availability"] == "online"
    state = json.loads(got[f"{KIOSK_TOPIC}/state"])
    assert {k: state[k] for k in ("voice_ready", "outbox_depth", "oldest_pending_s")} == {
        "voice_ready": True, "outbox_depth": 2, "oldest_pending_s": 30.0}
    link.stop()
    assert mqtt_sub(mosquitto, f"{KIOSK_TOPIC}/availability", 1, verbose=False) == ["offline"]


def test_broker_restart_reconnects_and_restores_everything(mosquitto, make_sim, make_link):
    make_sim(doors=2, lockers=1, health=1, codes=["123456"])
    link = make_link()
    ids = ("door-1", "door-2", "locker-1", "health-1")
    assert wait_until(lambda: online(link, *ids))
    mosquitto.restart()  # no persistence: every retained message is gone
    restarted = time.time()
    assert wait_until(lambda: link.connected and all(
        _info(link, i).last_seen > restarted and _info(link, i).availability == "online" for i in ids), timeout=5)
    assert link.pickup("123456").result(5)["locker"] == "locker-1"  # subscriptions restored
    assert mqtt_sub(mosquitto, f"{KIOSK_TOPIC}/availability", 1, verbose=False) == ["online"]


def test_sigkilled_simulator_goes_offline_within_one_and_a_half_keepalives(sim_process, make_link):
    keepalive = 2
    proc = sim_process("--doors", "1", "--lockers", "0", "--health", "0", "--keepalive", str(keepalive))
    link = make_link()
    assert wait_until(lambda: online(link, "door-1"))
    proc.kill()
    assert wait_until(lambda: _info(link, "door-1").availability == "offline", timeout=1.5 * keepalive)


def test_a_failing_listener_does_not_stop_notifications(make_sim, make_link):
    sim = make_sim(doors=1, lockers=0, health=0)
    link = make_link()
    seen = []

    def broken(info):
        raise RuntimeError("a bug in the UI")

    link.add_listener(broken)
    link.add_listener(lambda info: seen.append(info.fault))
    assert wait_until(lambda: online(link, "door-1"))
    sim.set_fault("door-1", "jam")
    assert wait_until(lambda: "jammed" in seen)


def test_frozen_simulator_goes_offline_by_keepalive(sim_process, make_link):
    """SIGSTOP keeps the TCP connection open (like a pulled network cable): only the broker's
    keepalive check (1.5 x keepalive after the last packet) can notice; it publishes the last will."""
    keepalive = 2
    proc = sim_process("--doors", "1", "--lockers", "0", "--health", "0", "--keepalive", str(keepalive))
    link = make_link()
    assert wait_until(lambda: online(link, "door-1"))
    proc.send_signal(signal.SIGSTOP)
    try:
        # + 6 s: mosquitto 2.0 checks keepalives on a coarse timer (measured 3-5 s late here)
        assert wait_until(lambda: _info(link, "door-1").availability == "offline", timeout=1.5 * keepalive + 6.0)
    finally:
        proc.send_signal(signal.SIGCONT)
    assert wait_until(lambda: _info(link, "door-1").availability == "online", timeout=5)  # it comes back


def test_connection_listener_hears_a_broker_drop_and_recovery_on_the_worker_thread(mosquitto, make_link):
    link = make_link(start=False)
    heard: list[tuple[bool, str]] = []
    link.add_connection_listener(lambda up: heard.append((up, threading.current_thread().name)))
    link.start()
    assert wait_until(lambda: [h[0] for h in heard] == [True])
    mosquitto.stop()
    assert wait_until(lambda: [h[0] for h in heard] == [True, False]) and not link.connected
    mosquitto.start()
    assert wait_until(lambda: [h[0] for h in heard] == [True, False, True], timeout=10) and link.connected
    assert {name for _up, name in heard} == {f"devices-link-{BUILDING}-worker"}  # never paho's thread
