"""Devices benchmarks on loopback with a real mosquitto:

- pick-up round trip kiosk link -> broker -> simulator (own process) -> reply: p50/p99 (target p99 <= 5 ms);
- registry ingest rate of state messages from outside publishers (target >= 5,000 msg/s);
- RSS of a link process for 20 doors, 10 locker banks of 48 and 4 health stations (target <= 60 MB).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import percentile, report, rss_mb

REPO = Path(__file__).resolve().parent.parent
BUILDING = "bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _broker(tmp: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    raise SystemExit("mosquitto did not start")


def _simulate(port: int, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "devices", "simulate", "--broker", f"127.0.0.1:{port}",
                             "--building", BUILDING, *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("simulate: ready"):
        raise SystemExit(f"simulator failed: {line!r}")
    return proc


def _link(port: int, state_dir: str):
    from devices.link import BuildingLink
    from devices.pickup_guard import PickupGuard
    from devices.settings import BrokerSettings, DevicesSettings

    settings = DevicesSettings(building_id=BUILDING, kiosk_id="bench", state_dir=state_dir,
                               broker=BrokerSettings(port=port))
    link = BuildingLink(settings, guard=PickupGuard(Path(state_dir) / "guard.json", max_wrong=10**9))
    link.start()
    if not link.wait_connected(5):
        raise SystemExit("link did not connect")
    return link


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _closed(link, compartment: str) -> bool:
    event = link.registry.get("locker", "locker-1").last_event or {}
    return event.get("type") == "door_closed" and event.get("compartment") == compartment


class _Echo:
    """The floor under every round trip: a bare paho client here, an echo process (same paho
    plumbing as the simulators) there, the same broker in between, no link and no device logic."""

    def __init__(self, port: int) -> None:
        import threading

        from devices.mqtt import make_client, run_forever, start_thread
        from devices.settings import BrokerSettings

        self.proc = subprocess.Popen([sys.executable, "-m", "bench.bench_devices", "--echo-child", str(port)],
                                     cwd=REPO, stdout=subprocess.PIPE, text=True)
        if not self.proc.stdout.readline().startswith("echo: ready"):
            raise SystemExit("echo child failed")
        broker = BrokerSettings(port=port)
        self._got, ready, self._stop = threading.Event(), threading.Event(), threading.Event()
        self.client = make_client(broker, "bench-echo-caller")

        def connected(client, userdata, flags, reason, properties) -> None:
            client.subscribe(ECHO_REPLY, 1)
            ready.set()

        self.client.on_connect = connected
        self.client.on_subscribe = lambda *a: self._got.set()
        self.client.on_message = lambda client, userdata, msg: self._got.set()
        start_thread(lambda: run_forever(self.client, broker, 30, self._stop, "bench-echo"), "bench-echo")
        if not (ready.wait(5) and self._got.wait(5)):
            raise SystemExit("echo caller did not connect")

    def round_trip(self) -> None:
        self._got.clear()
        self.client.publish(ECHO_REQUEST, b'{"op":"status"}', qos=1)
        if not self._got.wait(5):
            raise SystemExit("no echo within 5 s")

    def close(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.proc.terminate()
        self.proc.wait()


ECHO_REQUEST, ECHO_REPLY = f"bench/{BUILDING}/echo/request", f"bench/{BUILDING}/echo/reply"


def echo_child(port: int) -> None:
    """Answer every message on ECHO_REQUEST with the same payload on ECHO_REPLY."""
    import threading

    from devices.mqtt import make_client, run_forever
    from devices.settings import BrokerSettings

    broker, stop = BrokerSettings(port=port), threading.Event()
    client = make_client(broker, "bench-echo")

    def connected(client, userdata, flags, reason, properties) -> None:
        client.subscribe(ECHO_REQUEST, 1)

    client.on_connect = connected
    client.on_subscribe = lambda *a: print("echo: ready", flush=True)
    client.on_message = lambda client, userdata, msg: client.publish(ECHO_REPLY, msg.payload, qos=1)
    run_forever(client, broker, 30, stop, "bench-echo")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def bench_round_trips(port: int, tmp: str) -> None:
    """Pick-up, status command and the bare MQTT echo, taken in turn so each sees the same
    machine. Twice: back to back, and with 20 ms idle between trips (as between residents; on
    a shared VM an idle process wakes late, which shows in the echo floor as much as in ours).
    The ratio to the echo says what the link, the simulator and the contract add."""
    n = 300
    codes = iter(f"{100000 + i:06d}" for i in range(2 * n))  # dealt over 48 compartments
    sim = _simulate(port, "--doors", "1", "--lockers", "1", "--compartments", "48", "--health", "0",
                    "--codes", ",".join(f"{100000 + i:06d}" for i in range(2 * n)), "--door-close-seconds", "0.01")
    link = _link(port, tmp)
    echo = _Echo(port)
    try:
        _wait(lambda: len(link.registry.snapshot()) == 2, 5)
        for _ in range(50):  # warm-up
            link.status("door", "door-1").result(5)
            echo.round_trip()
        for label, gap in (("", 0.0), ("_paced", 0.02)):
            trips: dict[str, list[float]] = {"pickup": [], "command": [], "echo": []}
            for _ in range(n):
                trips["pickup"].append(_timed(lambda: link.pickup(next(codes)).result(5)))
                time.sleep(gap)
                trips["command"].append(_timed(lambda: link.status("door", "door-1").result(5)))
                time.sleep(gap)
                trips["echo"].append(_timed(echo.round_trip))
                time.sleep(gap)
            for name, values in trips.items():
                report(f"devices_{name}_rtt{label}_p50", percentile(values, 50), "ms")
                report(f"devices_{name}_rtt{label}_p99", percentile(values, 99), "ms")
            report(f"devices_pickup_rtt{label}_p99_over_echo",
                   percentile(trips["pickup"], 99) / percentile(trips["echo"], 99), "x")
    finally:
        echo.close()
        link.stop()
        sim.terminate()
        sim.wait()


def _states(count: int) -> list[bytes]:
    return [json.dumps({"locked": i % 2 == 0, "door_open": False, "fault": None,
                        "ts": f"2026-01-01T00:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{i % 10}00Z"}).encode()
            for i in range(count)]


def _drain(link, target: int, start_count: int) -> float:
    """Wait until `target` messages arrived (or 2 s without progress); return the seconds waited."""
    t0, last, still = time.perf_counter(), -1, 0.0
    while link.received - start_count < target and still < 2.0:
        time.sleep(0.01)
        still = still + 0.01 if link.received == last else 0.0
        last = link.received
    return time.perf_counter() - t0 - still


def bench_ingest(port: int, tmp: str) -> None:
    """Two measurements of the link ingesting door states from outside publishers:
    - paced: 5,000 msg/s for 4 s (two publisher processes): does the link keep up (received, lag)?
    - flood: 40,000 as fast as mosquitto_pub sends them: the link's capacity per CPU-second of
      this process (its threads); the wall figure depends on how loaded the machine is."""
    link = _link(port, tmp)
    link.add_listener(lambda info: None)  # as the kiosk's UI does
    try:
        rate, seconds, pubs = 5000, 4, 2
        start_count = link.received
        procs = [subprocess.Popen([sys.executable, "-m", "bench.bench_devices", "--publish-child", str(port), str(p),
                                   str(rate // pubs), str(seconds)], cwd=REPO, stdout=subprocess.PIPE, text=True)
                 for p in range(pubs)]
        sent_seconds = max(float(proc.communicate()[0].strip() or "nan") for proc in procs)
        lag = _drain(link, rate * seconds, start_count)
        report("devices_ingest_paced_offered_rate", rate * seconds / sent_seconds, "msg/s")
        report("devices_ingest_paced_5000_received", 100.0 * (link.received - start_count) / (rate * seconds), "%")
        report("devices_ingest_paced_5000_lag", lag * 1000, "ms")

        publishers, per = 4, 10_000
        lines = Path(tmp) / "states.txt"
        lines.write_bytes(b"\n".join(_states(per)) + b"\n")
        start_count = link.received
        t0, c0 = time.perf_counter(), time.process_time()
        procs = [subprocess.Popen(["mosquitto_pub", "-p", str(port), "-t", f"lobby/v1/{BUILDING}/door/door-{p}/state",
                                   "-q", "0", "-l"], stdin=lines.open("rb")) for p in range(publishers)]
        for proc in procs:
            proc.wait()
        _drain(link, publishers * per, start_count)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        got = link.received - start_count
        report("devices_registry_ingest_rate_cpu", got / cpu, "msg/cpu-s")
        report("devices_registry_ingest_rate_wall", got / elapsed, "msg/s")
    finally:
        link.stop()


def publish_child(port: int, index: int, rate: int, seconds: int) -> None:
    """An outside publisher: `rate` door states a second for `seconds` (QoS 0, Nagle off)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{index}", protocol=paho.MQTTv311)
    client.on_socket_open = lambda c, u, s: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    topic = f"lobby/v1/{BUILDING}/door/door-p{index}/state"
    payloads = _states(rate * seconds)
    start = time.perf_counter()
    for i, payload in enumerate(payloads):
        if i % 50 == 0:  # pace in batches of 50
            ahead = start + i / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
        client.publish(topic, payload, qos=0)
    print(f"{time.perf_counter() - start:.4f}", flush=True)  # how long sending took (the offered rate)
    time.sleep(0.2)
    client.loop_stop()
    client.disconnect()


def bench_rss(port: int) -> None:
    sim = _simulate(port, "--doors", "20", "--lockers", "10", "--compartments", "48", "--health", "4")
    try:
        out = subprocess.run([sys.executable, "-m", "bench.bench_devices", "--rss-child", str(port)], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
        print(out.stdout, end="")
    finally:
        sim.terminate()
        sim.wait()


def rss_child(port: int) -> None:
    """Only the link, as the kiosk process holds it: import, connect, learn 34 devices."""
    tmp = tempfile.mkdtemp(prefix="bench-devices-")
    link = _link(port, tmp)
    link.add_listener(lambda info: None)
    if not _wait(lambda: len(link.registry.snapshot()) == 34 and all(d.state for d in link.registry.snapshot()), 20):
        raise SystemExit("registry incomplete")
    time.sleep(0.5)
    report("devices_link_rss", rss_mb(), "MB")
    link.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    if sys.argv[1:2] == ["--publish-child"]:
        publish_child(*(int(a) for a in sys.argv[2:6]))
        return
    if sys.argv[1:2] == ["--echo-child"]:
        echo_child(int(sys.argv[2]))
        return
    if sys.argv[1:2] == ["--rss-child"]:
        rss_child(int(sys.argv[2]))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-devices-"))
    broker, port = _broker(tmp)
    try:
        bench_round_trips(port, str(tmp))
        bench_ingest(port, str(tmp))
        bench_rss(port)
    finally:
        broker.terminate()
        broker.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
