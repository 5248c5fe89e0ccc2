"""Test helpers for the example building broker (systemd/mosquitto/): TLS files, configs, clients.

Used by tests/foundation/conftest.py (fixtures `certs`, `acl_broker`) and the ACL tests.
"""

from __future__ import annotations

import getpass
import queue
import ssl
import subprocess
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.conftest import wait_for_port

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


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


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
    """One mosquitto laid out as Debian installs it: a main mosquitto.conf that includes conf.d/,
    where each of `dropins` (file name -> lines) goes. The log is printed at stop (shown on failure)."""

    def __init__(self, d: Path, dropins: dict[str, list[str]], port: int) -> None:
        (d / "conf.d").mkdir()
        for name, lines in dropins.items():
            (d / "conf.d" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        # Debian's /etc/mosquitto/mosquitto.conf, except that a test broker keeps nothing on disk.
        main = [f"pid_file {d / 'mosquitto.pid'}", "persistence false", "log_dest stderr", "log_type error",
                "log_type warning", "log_type notice", "log_type information", f"user {getpass.getuser()}",
                f"include_dir {d / 'conf.d'}"]
        conf = d / "mosquitto.conf"
        conf.write_text("\n".join(main) + "\n", encoding="utf-8")
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


class MqttClient:
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
        self.disconnected = threading.Event()
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda *_args: self.disconnected.set()
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




def make_certs(d: Path) -> Path:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost signed by it, in `d`."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=lobby test CA", cwd=d)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.ext", cwd=d)
    return d
