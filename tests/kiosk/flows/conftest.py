"""Real parts for the kiosk flow tests: a broker, the device simulators, the reference central
server and the sync agent, each a subprocess, plus a kiosk configuration pointing at them.

Expensive parts are shared per module (a broker and a simulator); what a test
changes (its state folder, outbox, pick-up guard, agent) is its own. Faults are
injected into the running simulator over its control topic, as the devices
docs describe, and cleared after the test.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from kiosk import config
from kiosk.building import render_config
from tests.conftest import REPO, Broker, free_port, write_mosquitto_conf

BUILDING = "flow-b"
KIOSK = "kiosk-f"
CODES = ("111111", "222222", "333333")
READY_S = 30.0


@dataclass
class Proc:
    """One subprocess of the test building, output in a log file; waits for a line saying it is ready."""

    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self, ready: str | None = None, timeout: float = READY_S) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if ready:
            self.wait_for(ready, timeout)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_for(self, needle: str, timeout: float = READY_S) -> str:
        """The first log line containing `needle` (fails if the process exits first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.text().splitlines():
                if needle in line:
                    return line
            if self.popen is not None and self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.name} never said {needle!r}; log:\n{self.text()[-2000:]}")

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def simulate(broker: Broker, folder: Path, *, building: str = BUILDING, codes: tuple[str, ...] = CODES,
             doors: int = 0, lockers: int = 1, health: int = 1, measure_s: float = 1.0) -> Proc:
    """`python -m devices simulate ...` on the broker, started and ready."""
    argv = [sys.executable, "-m", "devices", "simulate", "--broker", broker.address, "--building", building,
            "--doors", str(doors), "--lockers", str(lockers), "--health", str(health),
            "--measure-seconds", str(measure_s), "--door-close-seconds", "30", "--keepalive", "5"]
    if codes:
        argv += ["--codes", ",".join(codes)]
    proc = Proc("simulator", argv, folder / f"simulator-{building}.log")
    proc.start(ready="simulate: ready")
    return proc


class Central:
    """The reference central server (`python -m sync central`) with its staff API."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.kiosk_token = folder / "kiosk.token"
        self.staff_token_file = folder / "staff.token"
        self.kiosk_token.write_text(secrets.token_urlsafe(16) + "\n")
        self.staff_token = secrets.token_urlsafe(16)
        self.staff_token_file.write_text(self.staff_token + "\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = Proc("central", [sys.executable, "-m", "sync", "central", "--port", str(self.port),
                                     "--db", str(folder / "central.sqlite3"),
                                     "--token-file", str(self.kiosk_token),
                                     "--staff-token-file", str(self.staff_token_file)],
                         folder / "central.log")

    def start(self) -> None:
        self.proc.start(ready="central: listening")

    def stop(self) -> None:
        self.proc.stop()

    def staff(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.staff_token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def requests(self) -> list[dict[str, Any]]:
        """Every request the central holds (the staff's demand pool)."""
        return self.staff("GET", "/staff/v1/requests")["requests"]


@dataclass
class FlowSite:
    """One test's kiosk: its state folder, its configuration file, and the parts it talks to."""

    folder: Path
    broker: Broker
    central_url: str
    kiosk_token: Path | None
    building: str = BUILDING
    voice_model: str | None = None
    procs: list[Proc] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.folder / "state"

    @property
    def config_path(self) -> Path:
        return self.folder / "kiosk.toml"

    def write_config(self) -> config.KioskConfig:
        central: dict[str, Any] = {"url": self.central_url, "backoff_cap_s": 1, "pull_interval_s": 0.3,
                                   "heartbeat_interval_s": 1, "connect_timeout_s": 1, "read_timeout_s": 3}
        if self.kiosk_token is not None:
            central["token_file"] = str(self.kiosk_token)
        voice: dict[str, Any] = {"tts": False, "silence_s": 0.6}
        voice["model_path"] = self.voice_model or str(self.folder / "no-model-here")
        sections = {
            "site": {"building_id": self.building, "kiosk_id": KIOSK, "state_dir": str(self.state_dir),
                     "building_name": "流程测试 3号楼"},
            "broker": {"host": "127.0.0.1", "port": self.broker.port, "command_timeout_s": 3, "keepalive_s": 5},
            "central": central,
            "voice": voice,
            "ui": {"fullscreen": False},
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_config(sections), encoding="utf-8")
        return config.load(str(self.config_path))

    def start_agent(self) -> Proc:
        """`python -m sync run --config ...`: sends this kiosk's outbox to the central."""
        proc = Proc("agent", [sys.executable, "-m", "sync", "run", "--config", str(self.config_path)],
                    self.folder / "agent.log")
        proc.start()
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        while self.procs:
            self.procs.pop().stop()


@pytest.fixture(scope="module")
def flow_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("flows")


@pytest.fixture(scope="module")
def flow_broker(flow_dir: Path) -> Iterator[Broker]:
    """One mosquitto for the module (the function-scoped `mosquitto` fixture, shared)."""
    port = free_port()
    broker = Broker("127.0.0.1", port, write_mosquitto_conf(flow_dir / "mosquitto.conf", port))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def simulator(flow_broker: Broker, flow_dir: Path) -> Iterator[Proc]:
    """The device simulators (one locker bank with CODES, one health station) for the module."""
    proc = simulate(flow_broker, flow_dir)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def central(flow_dir: Path) -> Iterator[Central]:
    c = Central(flow_dir / "central")
    c.start()
    yield c
    c.stop()


@pytest.fixture
def site_factory(tmp_path: Path, flow_broker: Broker) -> Iterator[Callable[..., FlowSite]]:
    """site(central=None | Central, building=..., voice_model=...) -> FlowSite with its config written."""
    made: list[FlowSite] = []

    def make(central: Central | None = None, **kw: Any) -> FlowSite:
        url = central.url if central is not None else f"http://127.0.0.1:{free_port()}"  # nothing listens
        token = central.kiosk_token if central is not None else None
        site = FlowSite(tmp_path / f"site{len(made)}", flow_broker, url, token, **kw)
        made.append(site)
        return site

    yield make
    for site in made:
        site.stop()


@pytest.fixture
def services_for():
    """Services with a fast state loop, so outbox health (network reachable or not) is fresh."""
    from kiosk.services import Services

    def make(cfg: config.KioskConfig) -> Any:
        return Services(cfg, state_interval_s=0.3)

    return make


class Fault:
    """Injects simulator faults over the simulator's control topic (see devices/topics.py)."""

    def __init__(self, broker: Broker, building: str = BUILDING) -> None:
        self.broker, self.building = broker, building
        self.injected: set[str] = set()

    def set(self, device_id: str, spec: str) -> None:
        from devices import topics  # noqa: PLC0415

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        info = client.publish(topics.sim_fault(self.building, device_id), spec, qos=1)
        info.wait_for_publish(5)
        client.loop_stop()
        client.disconnect()
        self.injected.add(device_id)

    def clear(self) -> None:
        for device_id in list(self.injected):
            self.set(device_id, "none")
        self.injected.clear()


@pytest.fixture
def fault(flow_broker: Broker) -> Iterator[Fault]:
    f = Fault(flow_broker)
    yield f
    f.clear()


class Watcher:
    """Subscribes to topics of the building broker and keeps every message (JSON decoded)."""

    def __init__(self, broker: Broker, topic: str) -> None:
        self.messages: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        try:
            payload: Any = json.loads(msg.payload)
        except ValueError:
            payload = msg.payload.decode("utf-8", "replace")
        with self._lock:
            self.messages.append((msg.topic, payload))

    def payloads(self, suffix: str) -> list[Any]:
        with self._lock:
            return [p for t, p in self.messages if t.endswith(suffix)]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def watch(flow_broker: Broker):
    made: list[Watcher] = []

    def make(topic: str) -> Watcher:
        w = Watcher(flow_broker, topic)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def outbox_rows(state_dir: Path) -> list[dict[str, Any]]:
    """The requests in a kiosk's outbox file, read with sqlite3 directly (what is really on disk)."""
    import sqlite3

    path = state_dir / "outbox.sqlite3"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM requests ORDER BY created_ts")]
    finally:
        conn.close()


def wait_until(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Outside the app: poll until cond() is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def quick_tap(widget: Any) -> None:
    """A real touch down and up at the widget's centre within one frame (drawing a 1080x1920
    frame on this machine's software GL is slow; each extra frame costs real time)."""
    from kivy.tests import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def type_digits(d: Any, keypad: Any, digits: str) -> Iterator[None]:
    """Tap each digit key of a Keypad (the real keys on screen), then let one frame pass."""
    for ch in digits:
        key = next((k for k in keypad.children if getattr(k, "text", None) == ch), None)
        assert key is not None, f"no key {ch} on the keypad"
        quick_tap(key)
    yield


__all__ = ["BUILDING", "CODES", "Central", "Fault", "FlowSite", "Proc", "outbox_rows", "simulate",
           "type_digits", "wait_until"]


def _quiesce(d: Any, app: Any) -> Iterator[None]:
    """Before the driver stops the app: stop Home listening to the services and let callbacks
    already posted run while the app is alive (a callback left for the frame in which the app
    stops would find no running app; reported to CORE in /work/kiosk-flows-notes.md)."""
    home = app.created.get("home")
    if home is not None:
        app.services.remove_listener(home.refresh)
    yield from d.frames(2)


@pytest.fixture
def flow_drive(drive):
    """`drive(app, scenario)` for the flow tests (see _quiesce)."""

    def run(app: Any, scenario: Callable[[Any], Iterator[Any]], **kw: Any) -> None:
        def wrapped(d: Any) -> Iterator[Any]:
            yield from scenario(d)
            yield from _quiesce(d, app)

        drive(app, wrapped, **kw)

    return run


def screen_texts(d: Any) -> list[str]:
    """Every non-empty text on screen now (labels, buttons, badges)."""
    return [w.text for w in d.walk() if isinstance(getattr(w, "text", None), str) and w.text]
