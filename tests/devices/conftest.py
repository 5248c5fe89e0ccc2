"""Fixtures of the devices tests: links and simulated buildings on the real `mosquitto` broker."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.link import BuildingLink
from devices.settings import BrokerSettings, DevicesSettings
from devices.simulator.runner import SimConfig, Simulation

REPO = Path(__file__).resolve().parents[2]
BUILDING = "bldg-1"


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, step: float = 0.02) -> bool:
    """Poll `predicate` until it is truthy or `timeout` passes; returns whether it became truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def broker_settings(mosquitto, **kw) -> BrokerSettings:
    return BrokerSettings(host=mosquitto.host, port=mosquitto.port, **kw)


@pytest.fixture
def make_link(mosquitto, tmp_path) -> Iterator[Callable[..., BuildingLink]]:
    """Start a BuildingLink (kiosk `kiosk-1`, state in tmp_path/state) connected to the broker."""
    links: list[BuildingLink] = []

    def _make(*, state_dir: Path | None = None, timeout_s: float = 5.0, start: bool = True,
              broker: BrokerSettings | None = None, **kw) -> BuildingLink:
        settings = DevicesSettings(
            building_id=BUILDING, kiosk_id=kw.pop("kiosk_id", "kiosk-1"), state_dir=str(state_dir or tmp_path / "state"),
            broker=broker or broker_settings(mosquitto, command_timeout_s=timeout_s, keepalive_s=5))
        link = BuildingLink(settings, **kw)
        links.append(link)
        if start:
            link.start()
            assert link.wait_connected(5), "link did not connect"
        return link

    yield _make
    for link in links:
        link.stop()


@pytest.fixture
def make_sim(mosquitto) -> Iterator[Callable[..., Simulation]]:
    """Start an in-process simulated building and wait until every device is online."""
    sims: list[Simulation] = []

    def _make(**kw) -> Simulation:
        kw.setdefault("measure_seconds", 0.2)
        kw.setdefault("door_close_s", 0.2)
        sim = Simulation(SimConfig(broker=broker_settings(mosquitto), building=BUILDING, **kw))
        sims.append(sim)
        sim.start()
        assert sim.wait_ready(10), "simulator not ready"
        return sim

    yield _make
    for sim in sims:
        sim.stop()


@pytest.fixture
def sim_process(mosquitto) -> Iterator[Callable[..., subprocess.Popen]]:
    """`python -m devices simulate ...` as a subprocess, returned once it printed `simulate: ready`."""
    procs: list[subprocess.Popen] = []

    def _start(*args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devices", "simulate", "--broker", mosquitto.address, "--building", BUILDING,
             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.startswith("simulate: ready"), f"simulator said {line!r}: {proc.stderr.read() if proc.poll() else ''}"
        return proc

    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def mqtt_sub(mosquitto, topic: str, count: int, wait_s: float = 3, *, verbose: bool = True,
             ready: Callable[[], None] | None = None) -> list[str]:
    """Receive `count` messages on `topic` with the real `mosquitto_sub` (lines `topic payload`;
    line-buffered with stdbuf so its SUBACK line arrives while it runs).
    With `ready`, it is called once mosquitto_sub's subscription is acknowledged (e.g. to publish
    the command whose answer is awaited); nothing is timed."""
    cmd = ["stdbuf", "-oL", "mosquitto_sub", "-h", mosquitto.host, "-p", str(mosquitto.port), "-t", topic, "-C", str(count),
           "-W", str(wait_s), "-q", "1", "-d"] + (["-v"] if verbose else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    for line in proc.stdout:
        line = line.rstrip("\n")
        if line.startswith(("Client ", "Subscribed (mid")):
            if ready is not None and "SUBACK" in line:
                ready()
                ready = None
            continue
        lines.append(line)
    proc.wait(wait_s + 5)
    return lines


def mqtt_pub(mosquitto, topic: str, payload: str, *, retain: bool = False) -> None:
    """Publish one message with the real `mosquitto_pub`."""
    cmd = ["mosquitto_pub", "-h", mosquitto.host, "-p", str(mosquitto.port), "-t", topic, "-m", payload, "-q", "1"]
    subprocess.run(cmd + (["-r"] if retain else []), check=True, timeout=10)


def retained_until(mosquitto, topic: str, predicate: Callable[[str], bool], timeout: float = 5.0) -> str:
    """Read the retained payload of `topic` until `predicate(payload)` holds; returns the last one read."""
    deadline = time.monotonic() + timeout
    while True:
        lines = mqtt_sub(mosquitto, topic, 1, 2, verbose=False)
        payload = lines[0] if lines else ""
        if predicate(payload) or time.monotonic() > deadline:
            return payload
        time.sleep(0.05)

