"""The example building broker (systemd/mosquitto/) enforces the contract's ACL over TLS.

mosquitto runs with the shipped config and ACL; only install paths and the
port are rewritten for a temporary folder. A test CA and server certificate are
made with openssl, the password file with mosquitto_passwd. Real paho clients
(MQTT 5, TLS) publish as a device and as a kiosk; an observer allowed to read
everything says what actually got through. Denied publishes are also refused in
the broker's PUBACK (MQTT 5 reason code "Not authorized"). The bridge example
is run against a second mosquitto standing in for the central cluster.
"""

from __future__ import annotations

import getpass
import queue
import shutil
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "systemd" / "mosquitto" / "lobby-building.conf"
ACL = REPO / "systemd" / "mosquitto" / "lobby-building.acl"
BRIDGE = REPO / "systemd" / "mosquitto" / "lobby-bridge.conf"
B = "xingfuli-3"  # the example's building, as in assets/kiosk.example.toml
ROOT = f"lobby/v1/{B}"
OBSERVER = "test-observer"  # added by the test only: reads everything, writes nothing
ACCOUNTS = {"door/main-gate": "pw-door", "locker/parcel-a": "pw-locker", "kiosk/lobby-1": "pw-kiosk",
            "monitor": "pw-monitor", OBSERVER: "pw-observer"}
NOT_AUTHORIZED = 0x87


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost signed by it."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is not installed (scripts/bootstrap.sh installs it)")
    d = tmp_path_factory.mktemp("certs")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=lobby test CA", cwd=d)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "san.ext", cwd=d)
    return d


def rewrite(path: Path, replace: dict[str, str]) -> list[str]:
    """The lines of a shipped config with each directive named in `replace` rewritten."""
    seen, out = set(), []
    for line in path.read_text(encoding="utf-8").splitlines():
        key = line.split()[0] if line.strip() and not line.startswith("#") else None
        if key in replace:
            seen.add(key)
            line = f"{key} {replace[key]}"
        out.append(line)
    assert seen == set(replace), f"{path.name} lost directives: {set(replace) - seen}"
    return out


def building_conf(port: int, certs: Path, passwd: Path, acl: Path) -> list[str]:
    """The shipped building config with install paths and the port pointed at the test's files."""
    return rewrite(CONF, {
        "listener": f"{port} 127.0.0.1", "cafile": str(certs / "ca.crt"),
        "certfile": str(certs / "server.crt"), "keyfile": str(certs / "server.key"),
        "password_file": str(passwd), "acl_file": str(acl),
    })


class Mosquitto:
    """One mosquitto process for a test module; its log is printed (shown if a test fails) at the end."""

    def __init__(self, d: Path, lines: list[str], port: int) -> None:
        # Debian's main mosquitto.conf supplies these in production; a test broker keeps nothing.
        lines = [*lines, "persistence false", "log_dest stderr", "log_type error", "log_type warning",
                 "log_type notice", "log_type information", f"user {getpass.getuser()}"]
        conf = d / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.port, self.log_path = port, d / "mosquitto.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=self._log, stderr=subprocess.STDOUT)
        wait_for_port(port)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._log.close()
        print(self.log_path.read_text())


def password_file(path: Path, accounts: dict[str, str]) -> Path:
    """A mosquitto password file made with mosquitto_passwd -b."""
    path.touch()
    for user, password in accounts.items():
        subprocess.run(["mosquitto_passwd", "-b", str(path), user, password], check=True, timeout=30)
    return path


@pytest.fixture(scope="module")
def broker(tmp_path_factory, certs) -> Iterator[int]:
    """mosquitto with the example config, ACL and a password file for the test accounts."""
    d = tmp_path_factory.mktemp("broker")
    acl = d / "acl"
    acl.write_text(ACL.read_text(encoding="utf-8") + f"\nuser {OBSERVER}\ntopic read #\n", encoding="utf-8")
    port = free_port()
    mosq = Mosquitto(d, building_conf(port, certs, password_file(d / "passwd", ACCOUNTS), acl), port)
    yield port
    mosq.stop()


class Client:
    """A paho MQTT 5 client over TLS that records what it receives and each PUBACK's reason."""

    def __init__(self, port: int, certs: Path, username: str | None, password: str | None = None) -> None:
        self.received: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._acks: dict[int, int] = {}
        self._ack_cond = threading.Condition()
        self._connected = threading.Event()
        self._suback: queue.Queue[list[int]] = queue.Queue()
        self.connect_rc: int | None = None
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}",
                             protocol=mqtt.MQTTv5, reconnect_on_failure=False)
        self.c.tls_set(ca_certs=str(certs / "ca.crt"), cert_reqs=ssl.CERT_REQUIRED)
        if username:
            self.c.username_pw_set(username, password)
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda _c, _u, msg: self.received.put((msg.topic, msg.payload))
        self.c.on_publish = self._on_publish
        self.c.on_subscribe = lambda _c, _u, _mid, codes, _p: self._suback.put([int(rc.value) for rc in codes])
        self.c.connect("localhost", port)
        self.c.loop_start()

    def _on_connect(self, _c, _u, _flags, reason_code, _props) -> None:
        self.connect_rc = int(reason_code.value)
        self._connected.set()

    def _on_publish(self, _c, _u, mid, reason_code, _props) -> None:
        with self._ack_cond:
            self._acks[mid] = int(reason_code.value)
            self._ack_cond.notify_all()

    def wait_connected(self) -> int:
        assert self._connected.wait(10), "no CONNACK"
        return self.connect_rc

    def subscribe(self, topic: str) -> list[int]:
        self.c.subscribe(topic, qos=1)
        return self._suback.get(timeout=10)

    def publish(self, topic: str, payload: str) -> int:
        """Publish at QoS 1; 0 if the PUBACK accepts it, else its reason code (0x87 not authorized)."""
        info = self.c.publish(topic, payload, qos=1)
        with self._ack_cond:
            assert self._ack_cond.wait_for(lambda: info.mid in self._acks, 10), f"no PUBACK for {topic}"
            code = self._acks[info.mid]
        return 0 if code < 0x80 else code  # 0x10 "no matching subscribers" is a success too

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def connect(broker, certs):
    clients: list[Client] = []

    def _connect(username: str | None, password: str | None = None) -> Client:
        client = Client(broker, certs, username, password if password is not None else ACCOUNTS.get(username or ""))
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        client.close()


def _drain(observer: Client, kiosk: Client) -> list[tuple[str, str]]:
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


def _observer(connect) -> Client:
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


def test_plain_tcp_is_refused(broker):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.username_pw_set("kiosk/lobby-1", ACCOUNTS["kiosk/lobby-1"])
    with pytest.raises(OSError):
        c.connect("127.0.0.1", broker)
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
    central = Mosquitto(central_dir, [
        f"listener {cport} 127.0.0.1", f"cafile {certs / 'ca.crt'}", f"certfile {certs / 'server.crt'}",
        f"keyfile {certs / 'server.key'}", "allow_anonymous false", f"acl_file {central_acl}",
        f"password_file {password_file(central_dir / 'passwd', {f'bridge/{B}': 'pw-bridge', OBSERVER: 'pw-obs'})}",
    ], cport)
    building_acl = building_dir / "acl"
    building_acl.write_text(ACL.read_text(encoding="utf-8"))
    lines = building_conf(bport, certs, password_file(building_dir / "passwd", ACCOUNTS), building_acl)
    lines += rewrite(BRIDGE, {"address": f"127.0.0.1:{cport}", "remote_password": "pw-bridge",
                              "bridge_cafile": str(certs / "ca.crt")})
    building = Mosquitto(building_dir, lines, bport)
    clients: list[Client] = []
    try:
        observer = Client(cport, certs, OBSERVER, "pw-obs")
        door = Client(bport, certs, "door/main-gate", ACCOUNTS["door/main-gate"])
        kiosk = Client(bport, certs, "kiosk/lobby-1", ACCOUNTS["kiosk/lobby-1"])
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
