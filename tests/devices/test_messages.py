"""Typed messages and topics: what the contract allows is accepted, everything else is refused."""

import json

import pytest

from devices import topics
from devices.kinds import door, health, locker
from devices.messages import (
    MAX_PAYLOAD,
    Command,
    KioskState,
    MessageError,
    Reading,
    Reply,
    parse_availability,
)

REPLY_TO = "lobby/v1/b1/kiosk/k1/reply"


def test_command_round_trip_has_the_contract_fields():
    cmd = Command.new("unlock", {"seconds": 3}, REPLY_TO, 5)
    wire = json.loads(cmd.to_payload())
    assert set(wire) == {"id", "op", "args", "reply_to", "expires"}
    assert len(wire["id"]) == 36 and wire["id"].count("-") == 4
    assert wire["expires"].endswith("Z")
    assert Command.from_payload(cmd.to_payload()) == cmd
    assert not cmd.expired()


def test_expired_command_is_recognised():
    cmd = Command("x1", "status", {}, REPLY_TO, "2020-01-01T00:00:00Z")
    assert cmd.expired()


@pytest.mark.parametrize("payload", [
    b"not json", b"[1, 2]", b'"text"', b"\xff\xfe\x00",
    b'{"op": "status", "args": {}, "reply_to": "' + REPLY_TO.encode() + b'", "expires": "2030-01-01T00:00:00Z"}',
    b'{"id": 5, "op": "status", "reply_to": "' + REPLY_TO.encode() + b'", "expires": "2030-01-01T00:00:00Z"}',
    b'{"id": "a", "op": "status", "reply_to": "lobby/v1/b1/door/d1/cmd", "expires": "2030-01-01T00:00:00Z"}',
    b'{"id": "a", "op": "status", "reply_to": "' + REPLY_TO.encode() + b'", "expires": "tomorrow"}',
    b'{"id": "a", "op": "status", "reply_to": "' + REPLY_TO.encode() + b'", "expires": "2030-01-01T00:00:00"}',
    b'{"id": "a", "op": "status", "args": [], "reply_to": "' + REPLY_TO.encode() + b'", "expires": "2030-01-01T00:00:00Z"}',
])
def test_bad_commands_are_refused(payload):
    with pytest.raises(MessageError):
        Command.from_payload(payload)


def test_payload_over_64_kib_is_refused_before_parsing():
    big = json.dumps({"id": "a", "pad": "x" * MAX_PAYLOAD}).encode()
    with pytest.raises(MessageError, match="64 KiB"):
        Reply.from_payload(big)


def test_replies_ok_and_error():
    ok = Reply.from_payload(b'{"id": "a", "ok": true, "result": {"compartment": "A12"}}')
    assert ok.ok and ok.result == {"compartment": "A12"}
    err = Reply.from_payload(b'{"id": "a", "ok": false, "error": {"code": "bad_code", "message": "no"}}')
    assert not err.ok and err.code == "bad_code"
    assert Reply.from_payload(err.to_payload()) == err
    for bad in (b'{"id": "a", "ok": "yes"}', b'{"id": "a", "ok": false}', b'{"id": "a", "ok": false, "error": {}}'):
        with pytest.raises(MessageError):
            Reply.from_payload(bad)


def test_availability_is_plain_online_or_offline():
    assert parse_availability(b"online") == "online"
    assert parse_availability(b"offline") == "offline"
    for bad in (b"", b"ONLINE", b'"online"', b"up", b"\xff"):
        with pytest.raises(MessageError):
            parse_availability(bad)


def test_kind_states_check_types():
    ts = "2026-01-01T08:00:00Z"
    assert door.State.from_dict({"locked": True, "door_open": False, "fault": None, "ts": ts}).locked
    with pytest.raises(MessageError):
        door.State.from_dict({"locked": 1, "door_open": False, "fault": None, "ts": ts})
    with pytest.raises(MessageError):
        door.State.from_dict({"locked": True, "door_open": False, "fault": 7, "ts": ts})
    good = {"compartments": {"A01": {"occupied": True, "door_open": False}}, "fault": None, "ts": ts}
    assert locker.State.from_dict(good).compartments["A01"].occupied
    with pytest.raises(MessageError):
        locker.State.from_dict({**good, "compartments": {"../x": {"occupied": True, "door_open": False}}})
    with pytest.raises(MessageError):
        locker.State.from_dict({**good, "compartments": {"A01": {"occupied": "yes", "door_open": False}}})
    with pytest.raises(MessageError):
        health.State.from_dict({"ready": True, "cuff_connected": True, "fault": None})


def test_events_check_ranges_and_names():
    ts = "2026-01-01T08:00:00Z"
    reading = health.parse_event({"type": "reading", "ts": ts, "systolic": 128, "diastolic": 82, "pulse": 70,
                                  "irregular": False})
    assert Reading.from_fields(reading.fields) == Reading(128, 82, 70, False)
    for field, value in (("systolic", 301), ("diastolic", 29), ("pulse", 251), ("systolic", True), ("pulse", 7.5)):
        obj = {"type": "reading", "ts": ts, "systolic": 128, "diastolic": 82, "pulse": 70, "irregular": False}
        obj[field] = value
        with pytest.raises(MessageError):
            health.parse_event(obj)
    with pytest.raises(MessageError):
        door.parse_event({"type": "access_granted", "ts": ts, "method": "magic"})
    with pytest.raises(MessageError):
        door.parse_event({"type": "exploded", "ts": ts})
    assert locker.parse_event({"type": "door_opened", "ts": ts, "compartment": "B07"}).fields == {"compartment": "B07"}


def test_kiosk_state_fields():
    state = KioskState("1.0", True, 3, 12.5, "2026-01-01T08:00:00Z")
    assert set(json.loads(state.to_payload())) == {"version", "voice_ready", "outbox_depth", "oldest_pending_s", "ts"}
    assert KioskState.from_payload(state.to_payload()) == state
    with pytest.raises(MessageError):
        KioskState.from_payload(b'{"version": "1", "voice_ready": true, "outbox_depth": -1, "ts": "2026-01-01T08:00:00Z"}')


@pytest.mark.parametrize("topic, expected", [
    ("lobby/v1/b1/door/door-1/state", ("b1", "door", "door-1", "state")),
    ("lobby/v1/b1/kiosk/k1/reply", ("b1", "kiosk", "k1", "reply")),
    ("lobby/v1/b2/door/door-1/state", None),
    ("lobby/v1/b1/door/Door-1/state", None),
    ("lobby/v1/b1/door/door-1/reply", None),
    ("lobby/v1/b1/kiosk/k1/cmd", None),
    ("lobby/v1/b1/door/door-1/state/extra", None),
    ("lobby/v2/b1/door/door-1/state", None),
])
def test_topic_parsing(topic, expected):
    parsed = topics.parse(topic, "b1")
    assert (tuple(parsed) if parsed else None) == expected
