"""The example building broker (systemd/mosquitto/) enforces the contract's ACL over TLS.

mosquitto runs as Debian lays it out (main mosquitto.conf including conf.d/) with the
shipped config and ACL as drop-ins; only install paths and the
port are rewritten for a temporary folder. A test CA and server certificate are
made with openssl, the password file with mosquitto_passwd. Real paho clients
(MQTT 5, TLS) publish as a device and as a kiosk; an observer allowed to read
everything says what actually got through. Denied publishes are also refused in
the broker's PUBACK (MQTT 5 reason code "Not authorized"). The bridge example
is run against a second mosquitto standing in for the central cluster.
"""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import free_port
from tests.foundation.brokers import (
    ACCOUNTS,
    ACL,
    BRIDGE,
    NOT_AUTHORIZED,
    OBSERVER,
    ROOT,
    B,
    Mosquitto,
    MqttClient,
    building_conf,
    password_file,
    rewrite,
)


@pytest.fixture
def connect(acl_broker, certs):
    clients: list[MqttClient] = []

    def _connect(username: str | None, password: str | None = None) -> MqttClient:
        client = MqttClient(acl_broker, certs, username, password if password is not None else ACCOUNTS.get(username or ""))
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        client.close()


def _drain(observer: MqttClient, kiosk: MqttClient) -> list[tuple[str, str]]:
    """Everything the observer got, up to a sentinel the kiosk publishes last.

    mosquitto routes a message before it sends the PUBACK and keeps each
    subscriber's queue in order, so once the sentinel arrives, so has every
    message acknowledged before it.
    """
    sentinel = f"{ROOT}/kiosk/lobby-1/state"
    assert kiosk.publish(sentinel, "sentinel") == 0
    got = []
    while True:
        topic, payload = observer.received.get(timeout=10)
        if (topic, payload) == (sentinel, b"sentinel"):
            return got
        got.append((topic, payload.decode()))


def _observer(connect) -> MqttClient:
    observer = connect(OBSERVER)
    assert observer.wait_connected() == 0
    assert observer.subscribe("#") == [1]
    return observer


def test_device_publishes_only_its_own_topics_and_replies(connect):
    observer, kiosk, door = _observer(connect), connect("kiosk/lobby-1"), connect("door/main-gate")
    assert kiosk.wait_connected() == 0 and door.wait_connected() == 0
    allowed = [
        (f"{ROOT}/door/main-gate/availability", "online"),
        (f"{ROOT}/door/main-gate/state", '{"locked": true}'),
        (f"{ROOT}/door/main-gate/event", '{"type": "door_forced"}'),
        (f"{ROOT}/kiosk/lobby-1/reply", '{"id": "x", "ok": true}'),
    ]
    denied = [
        (f"{ROOT}/locker/parcel-a/state", "forged state of another device"),
        (f"{ROOT}/locker/parcel-a/availability", "offline"),
        (f"{ROOT}/locker/parcel-a/cmd", '{"op": "open"}'),
        (f"{ROOT}/door/main-gate/cmd", '{"op": "unlock"}'),
        (f"{ROOT}/kiosk/lobby-1/state", "forged kiosk state"),
        ("lobby/v1/another-building/door/main-gate/state", "wrong building"),
    ]
    acks = {topic: door.publish(topic, payload) for topic, payload in allowed + denied}
    assert _drain(observer, kiosk) == allowed  # what actually got through
    assert acks == {topic: 0 for topic, _ in allowed} | {topic: NOT_AUTHORIZED for topic, _ in denied}


def test_kiosk_publishes_commands_and_its_own_state_only(connect):
    observer, kiosk = _observer(connect), connect("kiosk/lobby-1")
    assert kiosk.wait_connected() == 0
    allowed = [
        (f"{ROOT}/door/main-gate/cmd", '{"op": "unlock", "args": {"seconds": 5}}'),
        (f"{ROOT}/locker/parcel-a/cmd", '{"op": "status", "args": {}}'),
        (f"{ROOT}/kiosk/lobby-1/availability", "online"),
        (f"{ROOT}/kiosk/lobby-1/state", '{"voice_ready": true}'),
    ]
    denied = [
        (f"{ROOT}/door/main-gate/state", "forged device state"),
        (f"{ROOT}/door/main-gate/availability", "offline"),
        (f"{ROOT}/kiosk/lobby-2/state", "another kiosk"),
        ("lobby/v1/another-building/door/main-gate/cmd", "wrong building"),
    ]
    acks = {topic: kiosk.publish(topic, payload) for topic, payload in allowed + denied}
    assert _drain(observer, kiosk) == allowed  # what actually got through
    assert acks == {topic: 0 for topic, _ in allowed} | {topic: NOT_AUTHORIZED for topic, _ in denied}


def test_device_reads_only_its_own_commands(connect):
    kiosk, door, monitor = connect("kiosk/lobby-1"), connect("door/main-gate"), connect("monitor")
    assert kiosk.wait_connected() == 0 and door.wait_connected() == 0 and monitor.wait_connected() == 0
    assert door.subscribe(f"{ROOT}/#") == [1]  # accepted, but delivery is filtered per message
    assert kiosk.subscribe(f"{ROOT}/kiosk/lobby-1/reply") == [1]
    assert monitor.subscribe(f"{ROOT}/#") == [1]
    assert kiosk.publish(f"{ROOT}/locker/parcel-a/cmd", "not for the door") == 0
    assert kiosk.publish(f"{ROOT}/door/main-gate/cmd", "for the door") == 0
    assert door.publish(f"{ROOT}/kiosk/lobby-1/reply", "reply") == 0
    assert door.received.get(timeout=10) == (f"{ROOT}/door/main-gate/cmd", b"for the door")
    assert kiosk.received.get(timeout=10) == (f"{ROOT}/kiosk/lobby-1/reply", b"reply")
    # The monitor (read-only) saw all three in order; the door saw nothing else.
    seen = [monitor.received.get(timeout=10)[0] for _ in range(3)]
    assert seen == [f"{ROOT}/locker/parcel-a/cmd", f"{ROOT}/door/main-gate/cmd", f"{ROOT}/kiosk/lobby-1/reply"]
    assert monitor.publish(f"{ROOT}/door/main-gate/cmd", "monitor is read-only") == NOT_AUTHORIZED
    assert door.received.empty()


@pytest.mark.parametrize("username, password", [(None, None), ("door/main-gate", "wrong"), ("nobody/x", "pw")])
def test_unknown_or_anonymous_accounts_are_refused(connect, username, password):
    client = connect(username, password)
    assert client.wait_connected() in (0x86, 0x87)  # bad user name or password / not authorized


def test_plain_tcp_is_refused(acl_broker):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.username_pw_set("kiosk/lobby-1", ACCOUNTS["kiosk/lobby-1"])
    with pytest.raises(OSError):
        c.connect("127.0.0.1", acl_broker)
        # A TLS listener answers a plain CONNECT by closing the connection.
        for _ in range(50):
            if c.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                raise ConnectionResetError("closed by the broker")
    assert not c.is_connected()


def test_bridge_carries_building_health_up_and_keeps_commands_in(tmp_path, certs):
    """lobby-bridge.conf: states and events go up to the cluster; commands and replies do not."""
    central_dir, building_dir = tmp_path / "central", tmp_path / "building"
    central_dir.mkdir()
    building_dir.mkdir()
    central_acl = central_dir / "acl"
    central_acl.write_text(f"user bridge/{B}\ntopic readwrite lobby/v1/{B}/#\ntopic readwrite lobby/bridge/{B}/#\n"
                           f"user {OBSERVER}\ntopic read #\n")
    cport, bport = free_port(), free_port()
    central = Mosquitto(central_dir, {"central.conf": [
        f"listener {cport} 127.0.0.1", f"cafile {certs / 'ca.crt'}", f"certfile {certs / 'server.crt'}",
        f"keyfile {certs / 'server.key'}", "allow_anonymous false", f"acl_file {central_acl}",
        f"password_file {password_file(central_dir / 'passwd', {f'bridge/{B}': 'pw-bridge', OBSERVER: 'pw-obs'})}",
    ]}, cport)
    building_acl = building_dir / "acl"
    building_acl.write_text(ACL.read_text(encoding="utf-8"))
    building = Mosquitto(building_dir, {
        "lobby-building.conf": building_conf(bport, certs, password_file(building_dir / "passwd", ACCOUNTS),
                                             building_acl),
        "lobby-bridge.conf": rewrite(BRIDGE, {"address": f"127.0.0.1:{cport}", "remote_password": "pw-bridge",
                                              "bridge_cafile": str(certs / "ca.crt")}),
    }, bport)
    clients: list[MqttClient] = []
    try:
        observer = MqttClient(cport, certs, OBSERVER, "pw-obs")
        door = MqttClient(bport, certs, "door/main-gate", ACCOUNTS["door/main-gate"])
        kiosk = MqttClient(bport, certs, "kiosk/lobby-1", ACCOUNTS["kiosk/lobby-1"])
        clients += [observer, door, kiosk]
        assert observer.wait_connected() == 0 and door.wait_connected() == 0 and kiosk.wait_connected() == 0
        assert observer.subscribe("#") == [1]
        assert observer.received.get(timeout=15) == (f"lobby/bridge/{B}/state", b"1")  # the link is up
        up = [(f"{ROOT}/door/main-gate/state", '{"locked": true}'), (f"{ROOT}/door/main-gate/event", '{"type": "door_forced"}')]
        for topic, payload in up:
            assert door.publish(topic, payload) == 0
        assert kiosk.publish(f"{ROOT}/door/main-gate/cmd", '{"op": "unlock"}') == 0
        assert door.publish(f"{ROOT}/kiosk/lobby-1/reply", '{"ok": true}') == 0
        # The kiosk's own state goes up last; everything the bridge forwards arrives in order.
        assert _drain(observer, kiosk) == up
    finally:
        for client in clients:
            client.close()
        building.stop()
        central.stop()


def test_oversized_packets_never_reach_anyone(connect):
    """max_packet_size: a payload over the contract's 64 KiB costs the sender its connection."""
    observer, kiosk, door = _observer(connect), connect("kiosk/lobby-1"), connect("door/main-gate")
    assert kiosk.wait_connected() == 0 and door.wait_connected() == 0
    big = '{"locked": true, "pad": "' + "x" * (70 * 1024) + '"}'
    info = door.c.publish(f"{ROOT}/door/main-gate/state", big, qos=1)
    assert info.rc == mqtt.MQTT_ERR_SUCCESS  # paho sends it: the broker is what refuses it
    assert door.disconnected.wait(10)  # mosquitto: "disconnected due to oversize packet"
    assert _drain(observer, kiosk) == []
