"""The project's own MQTT code works under the example ACL, and the ACL protects it.

The kiosk's real `BuildingLink` (account `kiosk/lobby-1`) and a real simulated
door (`SimDoor`, account `door/main-gate`) connect over TLS with password files
to the broker run with systemd/mosquitto/. Every topic the code uses must be
allowed: the door comes online with its state, an unlock command gets its
reply, the kiosk's state is published. A door that pretends to be another
device, or a kiosk with a device's account, gets nowhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from devices.errors import Offline, Timeout
from devices.link import BuildingLink
from devices.settings import BrokerSettings, DevicesSettings
from devices.simulator.door import SimDoor
from tests.foundation.brokers import ACCOUNTS, OBSERVER, ROOT, B, MqttClient


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.fixture
def broker_settings(acl_broker, certs, tmp_path) -> Callable[[str], BrokerSettings]:
    """BrokerSettings for one account of the example ACL, as a kiosk.toml [broker] would give them."""

    def _for(username: str) -> BrokerSettings:
        pw = tmp_path / f"{username.replace('/', '-')}.password"
        pw.write_text(ACCOUNTS[username] + "\n")
        return BrokerSettings(host="localhost", port=acl_broker, tls=True, ca_file=str(certs / "ca.crt"),
                              username=username, password_file=str(pw), command_timeout_s=3)

    return _for


@pytest.fixture
def started(tmp_path) -> Iterator[Callable]:
    """Start links and simulated devices; stop them all at the end."""
    running: list = []

    def _start(thing):
        thing.start()
        running.append(thing)
        return thing

    yield _start
    for thing in reversed(running):
        thing.stop()


def kiosk_link(broker: BrokerSettings, state_dir: Path) -> BuildingLink:
    return BuildingLink(DevicesSettings(building_id=B, kiosk_id="lobby-1", state_dir=str(state_dir), broker=broker))


def test_kiosk_and_door_work_under_the_acl(broker_settings, started, tmp_path, acl_broker, certs):
    observer = MqttClient(acl_broker, certs, OBSERVER, ACCOUNTS[OBSERVER])
    try:
        assert observer.wait_connected() == 0 and observer.subscribe(f"{ROOT}/kiosk/lobby-1/state") == [1]
        door = started(SimDoor(broker_settings("door/main-gate"), B, "main-gate"))
        link = started(kiosk_link(broker_settings("kiosk/lobby-1"), tmp_path))
        assert link.wait_connected(10)
        assert wait_until(lambda: (info := link.registry.get("door", "main-gate")) is not None
                          and info.availability == "online" and info.state is not None)
        assert link.registry.get("door", "main-gate").state["locked"] is True
        assert link.door("main-gate").unlock(2).result(timeout=10) == {}
        assert wait_until(lambda: link.registry.get("door", "main-gate").state["locked"] is False)
        assert door.locked is False
        link.publish_kiosk_state(voice_ready=True, outbox_depth=0)
        states = []  # the retained state at connect, then the update
        while not states or states[-1].get("voice_ready") is not True:
            states.append(json.loads(observer.received.get(timeout=10)[1]))
        assert states[-1]["outbox_depth"] == 0
    finally:
        observer.close()


def test_a_door_cannot_pose_as_another_device(broker_settings, started, tmp_path):
    # The door's account is door/main-gate, but it announces itself as door/side-gate.
    started(SimDoor(broker_settings("door/main-gate"), B, "side-gate"))
    wrong_kind = started(SimDoor(broker_settings("locker/parcel-a"), B, "parcel-a"))  # a locker's account
    link = started(kiosk_link(broker_settings("kiosk/lobby-1"), tmp_path))
    assert link.wait_connected(10)
    started(SimDoor(broker_settings("door/main-gate"), B, "main-gate"))
    # The real door shows up; the impostors never do.
    assert wait_until(lambda: (info := link.registry.get("door", "main-gate")) is not None
                      and info.availability == "online")
    assert link.registry.get("door", "side-gate") is None
    assert link.registry.get("door", "parcel-a") is None
    assert wrong_kind.endpoint.connected.is_set()  # connected fine, only its publishes are refused
    # Commands to the impostor go unanswered: it cannot even read its command topic.
    fut: Future = link.door("side-gate").unlock(1, force=True)
    with pytest.raises((Timeout, Offline)):
        fut.result(timeout=10)


def test_a_kiosk_with_a_device_account_cannot_command(broker_settings, started, tmp_path):
    door = started(SimDoor(broker_settings("door/main-gate"), B, "main-gate"))
    assert door.endpoint.ready.wait(10)
    rogue = started(kiosk_link(broker_settings("locker/parcel-a"), tmp_path))  # a device's credentials
    assert rogue.wait_connected(10)
    with pytest.raises((Timeout, Offline)):
        rogue.door("main-gate").unlock(5, force=True).result(timeout=10)
    assert door.locked is True
