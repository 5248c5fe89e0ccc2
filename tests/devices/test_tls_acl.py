"""The link and a device over TLS with passwords, under the ACL the project ships
(systemd/mosquitto/lobby-building.acl): the contract's security section, end to end."""

import getpass
import json
import subprocess
from pathlib import Path

import pytest

from devices.errors import Offline
from devices.settings import BrokerSettings
from devices.simulator.door import SimDoor
from tests.conftest import REPO, Broker, free_port
from tests.devices.conftest import BUILDING, wait_until


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def tls_broker(tmp_path):
    d = tmp_path
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=d)
    for user, password in (("kiosk/lobby-1", "kiosk-pw"), ("door/main-gate", "door-pw")):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if user.startswith("kiosk") else []), str(d / "passwd"),
                        user, password], check=True, capture_output=True)
    acl = (REPO / "systemd" / "mosquitto" / "lobby-building.acl").read_text().replace("xingfuli-3", BUILDING)
    (d / "acl").write_text(acl)
    port = free_port()
    (d / "mosquitto.conf").write_text(
        f"per_listener_settings false\nallow_anonymous false\npassword_file {d}/passwd\nacl_file {d}/acl\n"
        f"persistence false\nlistener {port} 127.0.0.1\ncafile {d}/ca.crt\ncertfile {d}/server.crt\n"
        f"keyfile {d}/server.key\nset_tcp_nodelay true\nuser {getpass.getuser()}\n")
    (d / "kiosk.pw").write_text("kiosk-pw\n")
    (d / "door.pw").write_text("door-pw\n")
    (d / "wrong.pw").write_text("guess\n")
    broker = Broker("127.0.0.1", port, d / "mosquitto.conf")
    try:
        broker.start()
    except TimeoutError:
        pytest.fail(f"TLS broker did not start: {broker.proc.stderr.read().decode() if broker.proc else ''}")
    yield broker, d
    broker.stop()


def test_tls_passwords_and_the_shipped_acl(tls_broker, make_link):
    broker, d = tls_broker
    common = {"host": "127.0.0.1", "port": broker.port, "tls": True, "ca_file": str(d / "ca.crt")}
    door = SimDoor(BrokerSettings(**common, username="door/main-gate", password_file=str(d / "door.pw")),
                   BUILDING, "main-gate")
    door.start()
    try:
        assert door.endpoint.ready.wait(10)
        link = make_link(kiosk_id="lobby-1", broker=BrokerSettings(
            **common, username="kiosk/lobby-1", password_file=str(d / "kiosk.pw"), command_timeout_s=5))
        assert wait_until(lambda: (i := link.registry.get("door", "main-gate")) and i.availability == "online")
        assert link.door("main-gate").unlock(1).result(5) == {}  # cmd allowed, reply allowed by the ACL
        assert wait_until(lambda: [k.availability for k in link.registry.kiosks()] == ["online"])
    finally:
        door.stop()


def test_wrong_password_never_connects(tls_broker, make_link):
    broker, d = tls_broker
    link = make_link(kiosk_id="lobby-1", start=False, broker=BrokerSettings(
        host="127.0.0.1", port=broker.port, tls=True, ca_file=str(d / "ca.crt"), username="kiosk/lobby-1",
        password_file=str(d / "wrong.pw")))
    link.start()
    assert not link.wait_connected(1.5)
    assert isinstance(link.pickup("123456").exception(1), Offline)


def test_a_technician_reads_status_from_a_secured_broker_with_login_options(tls_broker, run_cli):
    """`lobby-devices status` with --ca-file/--username/--password-file, no config file: what a
    technician types on site against the building's TLS broker."""
    broker, d = tls_broker
    door = SimDoor(BrokerSettings(host="127.0.0.1", port=broker.port, tls=True, ca_file=str(d / "ca.crt"),
                                  username="door/main-gate", password_file=str(d / "door.pw")), BUILDING, "main-gate")
    door.start()
    try:
        assert door.endpoint.ready.wait(10)
        login = ["--broker", f"mqtts://127.0.0.1:{broker.port}", "--building", BUILDING, "--ca-file",
                 str(d / "ca.crt"), "--username", "kiosk/lobby-1"]
        out = run_cli("devices", "status", *login, "--password-file", str(d / "kiosk.pw"), "--json")
        assert out.returncode == 0, out.stderr
        rows = [row for row in json.loads(out.stdout) if row["kind"] == "door"]
        assert [(r["id"], r["availability"]) for r in rows] == [("main-gate", "online")]
        refused = run_cli("devices", "status", *login, "--password-file", str(d / "wrong.pw"), "--json")
        assert refused.returncode != 0
        assert "kiosk-pw" not in refused.stderr + refused.stdout and "guess" not in refused.stderr + refused.stdout
    finally:
        door.stop()
