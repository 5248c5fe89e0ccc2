"""The simulators speak the contract (docs: ../shared/specs/mqtt-contract.md), checked from the
outside with the real mosquitto_sub / mosquitto_pub clients."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from tests.devices.conftest import BUILDING, mqtt_pub, mqtt_sub, retained_until

ROOT = f"lobby/v1/{BUILDING}"
REPLY = f"{ROOT}/kiosk/tester/reply"


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _command(op: str, args: dict, *, cmd_id: str | None = None, expires_in: float = 30) -> str:
    return json.dumps({"id": cmd_id or str(uuid.uuid4()), "op": op, "args": args, "reply_to": REPLY,
                       "expires": _iso(datetime.now(UTC) + timedelta(seconds=expires_in))})


def _ask(mosquitto, kind: str, device: str, payload: str, wait_s: float = 3) -> list[dict]:
    lines = mqtt_sub(mosquitto, REPLY, 1, wait_s, verbose=False,
                     ready=lambda: mqtt_pub(mosquitto, f"{ROOT}/{kind}/{device}/cmd", payload))
    return [json.loads(line) for line in lines]


def test_retained_availability_and_state_of_every_device(mosquitto, sim_process):
    sim_process("--doors", "2", "--lockers", "1", "--compartments", "4", "--health", "1")
    lines = mqtt_sub(mosquitto, f"{ROOT}/+/+/+", 8)
    got = dict(line.split(" ", 1) for line in lines)
    for kind, device in (("door", "door-1"), ("door", "door-2"), ("locker", "locker-1"), ("health", "health-1")):
        assert got[f"{ROOT}/{kind}/{device}/availability"] == "online"
        state = json.loads(got[f"{ROOT}/{kind}/{device}/state"])
        assert state["fault"] is None and datetime.fromisoformat(state["ts"]).tzinfo is not None
    assert json.loads(got[f"{ROOT}/door/door-1/state"])["locked"] is True
    assert json.loads(got[f"{ROOT}/locker/locker-1/state"])["compartments"]["A04"] == {"occupied": False,
                                                                                      "door_open": False}
    assert set(json.loads(got[f"{ROOT}/health/health-1/state"])) == {"ready", "cuff_connected", "fault", "ts"}


def test_each_id_is_answered_once_and_expired_commands_are_ignored(mosquitto, sim_process):
    sim_process("--doors", "0", "--lockers", "1", "--health", "0", "--codes", "135790,246801")
    cmd_id = str(uuid.uuid4())
    first = _ask(mosquitto, "locker", "locker-1", _command("pickup", {"code": "135790"}, cmd_id=cmd_id))
    assert first == [{"id": cmd_id, "ok": True, "result": {"compartment": "A01"}}]
    again = _ask(mosquitto, "locker", "locker-1", _command("pickup", {"code": "135790"}, cmd_id=cmd_id))
    assert again == first  # the first answer again; the compartment is not opened twice
    fresh = _ask(mosquitto, "locker", "locker-1", _command("pickup", {"code": "135790"}))
    assert fresh[0]["ok"] is False and fresh[0]["error"]["code"] == "bad_code"  # used up
    expired = _command("pickup", {"code": "246801"}, expires_in=-1)
    assert _ask(mosquitto, "locker", "locker-1", expired, wait_s=1.5) == []
    still = _ask(mosquitto, "locker", "locker-1", _command("pickup", {"code": "246801"}))
    assert still[0]["ok"] is True and still[0]["result"] == {"compartment": "A02"}


def test_bad_commands_get_bad_request(mosquitto, sim_process):
    sim_process("--doors", "1", "--lockers", "0", "--health", "0")
    for args in ({"seconds": 0}, {"seconds": "5"}, {}):
        reply = _ask(mosquitto, "door", "door-1", _command("unlock", args))
        assert reply[0]["ok"] is False and reply[0]["error"]["code"] == "bad_request"
    unknown = _ask(mosquitto, "door", "door-1", _command("fly", {}))
    assert unknown[0]["error"]["code"] == "bad_request"
    broken = json.dumps({"id": "x-1", "op": "unlock", "reply_to": REPLY, "expires": "soon"})
    assert _ask(mosquitto, "door", "door-1", broken) == [
        {"id": "x-1", "ok": False, "error": {"code": "bad_request", "message": "expires: not an RFC 3339 time"}}]


def test_door_events_and_health_reading_follow_the_contract(mosquitto, sim_process):
    sim_process("--doors", "1", "--lockers", "0", "--health", "1", "--measure-seconds", "0.3")
    events = mqtt_sub(mosquitto, f"{ROOT}/+/+/event", 2, 5, ready=lambda: (
        mqtt_pub(mosquitto, f"{ROOT}/door/door-1/cmd", _command("unlock", {"seconds": 1})),
        mqtt_pub(mosquitto, f"{ROOT}/health/health-1/cmd", _command("measure", {}))))
    got = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1]) for line in events}
    door = got[f"{ROOT}/door/door-1/event"]
    assert door["type"] == "access_granted" and door["method"] == "remote"
    reading = got[f"{ROOT}/health/health-1/event"]
    assert reading["type"] == "reading" and set(reading) == {"type", "ts", "systolic", "diastolic", "pulse",
                                                             "irregular"}
    assert 50 <= reading["systolic"] <= 300 and 30 <= reading["diastolic"] <= 200 and 30 <= reading["pulse"] <= 250


def test_faults_injected_from_outside(mosquitto, sim_process):
    """--fault at start, and the simulator-only control topic lobby/v1/B/_sim/ID/fault at run time."""
    sim_process("--doors", "1", "--lockers", "1", "--health", "0", "--fault", "door-1=offline")
    assert mqtt_sub(mosquitto, f"{ROOT}/door/door-1/availability", 1, verbose=False) == ["offline"]
    mqtt_pub(mosquitto, f"{ROOT}/_sim/locker-1/fault", "jam")
    state = retained_until(mosquitto, f"{ROOT}/locker/locker-1/state", lambda p: json.loads(p)["fault"] == "jammed")
    assert json.loads(state)["fault"] == "jammed"
    reply = _ask(mosquitto, "locker", "locker-1", _command("open", {"compartment": "A01"}))
    assert reply[0]["error"]["code"] == "jammed"
    mqtt_pub(mosquitto, f"{ROOT}/_sim/door-1/fault", "none")
    assert retained_until(mosquitto, f"{ROOT}/door/door-1/availability", lambda p: p == "online") == "online"
