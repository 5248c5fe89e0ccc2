"""The serial bridge on real ttys (os.openpty) with simulated hardware on the master side."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devices.errors import DeviceError
from devices.messages import Reading
from devices.serial.bridge import SerialBridge
from devices.simulator.serial_devices import SimKerongBoards, SimVisomat
from tests.devices.conftest import BUILDING, broker_settings, wait_until


class Tty:
    """A pty whose slave is reachable at a stable path (like /dev/serial/by-id/...); `pull()` is the
    cable pulled (the master closes, the slave vanishes), `plug()` a new one at the same path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master = -1
        self.plug()

    def plug(self) -> int:
        self.master, slave = os.openpty()
        target = os.ttyname(slave)
        os.close(slave)
        tmp = self.path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, self.path)
        return self.master

    def pull(self) -> None:
        os.close(self.master)
        self.master = -1

    @property
    def uri(self) -> str:
        return f"serial://{self.path}?baud=19200"


@pytest.fixture
def tty(tmp_path):
    t = Tty(tmp_path / "ttyUSB0")
    yield t
    if t.master >= 0:
        os.close(t.master)


@pytest.fixture
def bridge(mosquitto):
    bridges = []

    def _start(**kw) -> SerialBridge:
        b = SerialBridge(broker_settings(mosquitto), BUILDING, poll_s=0.2, **kw)
        bridges.append(b)
        b.start()
        return b

    yield _start
    for b in bridges:
        b.stop()


def _availability(link, device_id):
    info = next((d for d in link.registry.snapshot() if d.id == device_id), None)
    return info.availability if info else None


def test_blood_pressure_monitor_through_noise_and_a_pulled_cable(tty, bridge, make_link):
    monitor = SimVisomat(tty.master).start()
    monitor.measure(Reading(140, 90, 75), at=None)  # an old record: the baseline, not news
    monitor.noise = True  # line noise before every answer
    bridge(kind="health", device_id="health-9", uri=tty.uri, protocol="visomat")
    link = make_link()
    assert wait_until(lambda: _availability(link, "health-9") == "online", timeout=10)

    future = link.health("health-9").measure()
    assert wait_until(lambda: (s := link.registry.get("health", "health-9").state) and s["ready"] is False)
    monitor.measure(Reading(128, 82, 70, irregular=True))  # the resident pressed start on the cuff
    assert future.result(10) == Reading(128, 82, 70, True)
    assert link.registry.get("health", "health-9").last_event["systolic"] == 128

    monitor.stop()
    tty.pull()
    assert wait_until(lambda: _availability(link, "health-9") == "offline", timeout=10)
    monitor = SimVisomat(tty.plug()).start()  # the cable is back
    try:
        assert wait_until(lambda: _availability(link, "health-9") == "online", timeout=10)
        assert link.registry.get("health", "health-9").state["cuff_connected"] is True
    finally:
        monitor.stop()


def test_silent_device_goes_offline(tty, bridge, make_link):
    bridge(kind="health", device_id="health-8", uri=tty.uri, protocol="visomat", offline_after_s=1.0)
    link = make_link()
    assert wait_until(lambda: _availability(link, "health-8") == "offline", timeout=5)
    monitor = SimVisomat(tty.master).start()
    try:
        assert wait_until(lambda: _availability(link, "health-8") == "online", timeout=5)
    finally:
        monitor.stop()


def test_locker_board_pickup_open_and_jam(tty, bridge, make_link, tmp_path):
    boards = SimKerongBoards(tty.master, [0, 1]).start()
    boards.noise = True
    boards.item_bits[1] = 1 << 2  # a parcel in B03
    codes = tmp_path / "codes.json"
    codes.write_text(json.dumps({"123456": "B03", "654321": "A05"}))
    bridge(kind="locker", device_id="locker-9", uri=tty.uri, protocol="kerong", boards="0,1", codes_file=str(codes))
    link = make_link()
    try:
        assert wait_until(lambda: _availability(link, "locker-9") == "online", timeout=10)
        state = link.registry.get("locker", "locker-9").state
        assert len(state["compartments"]) == 32 and state["compartments"]["B03"]["occupied"] is True

        assert link.pickup("123456").result(5) == {"locker": "locker-9", "compartment": "B03"}
        assert json.loads(codes.read_text()) == {"654321": "A05"}  # used once
        assert link.registry.get("locker", "locker-9").state["compartments"]["B03"]["door_open"] is True
        boards.close(1, 2)
        assert wait_until(lambda: link.registry.get("locker", "locker-9").last_event["type"] == "door_closed")

        assert link.locker("locker-9").open("A16").result(5) == {}
        boards.jammed.add((0, 4))
        with pytest.raises(DeviceError) as err:
            link.locker("locker-9").open("A05").result(5)
        assert err.value.code == "jammed"
        with pytest.raises(DeviceError) as err:
            link.pickup("654321").result(5)
        assert err.value.code == "jammed"
        assert json.loads(codes.read_text()) == {"654321": "A05"}  # still valid: the door never opened
        with pytest.raises(DeviceError) as err:
            link.locker("locker-9").open("C01").result(5)
        assert err.value.code == "not_found"
    finally:
        boards.stop()


def test_socket_uri_reaches_a_board_behind_a_serial_server(bridge, make_link):
    """socket://HOST:PORT, as for an RS-485-to-Ethernet converter."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
    bridge(kind="locker", device_id="locker-8", uri=f"socket://127.0.0.1:{server.getsockname()[1]}",
           protocol="kerong")
    assert wait_until(lambda: accepted, timeout=5)
    boards = SimKerongBoards(accepted[0].fileno(), [0]).start()
    link = make_link()
    try:
        assert wait_until(lambda: _availability(link, "locker-8") == "online", timeout=10)
        assert link.locker("locker-8").open("A01").result(5) == {}
    finally:
        boards.stop()
        accepted[0].close()
        server.close()


def test_serial_bridge_command_line_as_the_systemd_unit_runs_it(mosquitto, tty, make_link, tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[site]\nbuilding_id = "{BUILDING}"\nkiosk_id = "lobby-1"\n\n'
                      f'[broker]\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n')
    monitor = SimVisomat(tty.master).start()
    proc = subprocess.Popen([sys.executable, "-m", "devices", "serial-bridge", "--config", str(config),
                             "--device", tty.uri, "--protocol", "visomat", "--kind", "health", "--id", "health-7"],
                            cwd=Path(__file__).resolve().parents[2], stderr=subprocess.PIPE, text=True)
    link = make_link()
    try:
        assert wait_until(lambda: _availability(link, "health-7") == "online", timeout=10)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert wait_until(lambda: _availability(link, "health-7") == "offline", timeout=5)  # said so on the way out
    finally:
        monitor.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_simulated_serial_monitor_and_bridge_as_commands(mosquitto, make_link, tmp_path):
    """`simulate-serial` (a technician's bench without hardware) feeding `serial-bridge`."""
    tty = tmp_path / "ttyBP"
    repo = Path(__file__).resolve().parents[2]
    sim = subprocess.Popen([sys.executable, "-m", "devices", "simulate-serial", "--protocol", "visomat",
                            "--tty", str(tty), "--reading-every", "0.5", "--noise", "--seed", "3"],
                           cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = [sim]
    try:
        assert sim.stdout.readline().startswith("simulate-serial: ready")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "devices", "serial-bridge", "--broker", mosquitto.address, "--building", BUILDING,
             "--device", f"serial://{tty}?baud=9600", "--protocol", "visomat", "--kind", "health", "--id", "health-5",
             "--poll-seconds", "0.2"], cwd=repo, stderr=subprocess.PIPE, text=True))
        link = make_link()
        assert wait_until(lambda: _availability(link, "health-5") == "online", timeout=10)
        reading = link.health("health-5").measure().result(10)
        assert 108 <= reading.systolic <= 158 and 56 <= reading.pulse <= 96
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    assert not tty.exists()  # the simulator removed its link
