"""The service layer against the real subsystems: a mosquitto broker with simulated devices,
the SQLite outbox, the sync agent's summary reader. Callbacks arrive through Kivy's Clock."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt

from kiosk.services import Services, Unavailable, failure_key
from sync.settings import devices_summary_path
from sync.summary import DeviceSummary
from tests.kiosk.conftest import make_config


def pump(cond, timeout: float = 10.0, what: str = "condition") -> None:
    """Run Kivy's clock (where callbacks land) until cond() holds."""
    from kivy.clock import Clock

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        Clock.tick()


def kiosk_state_watcher(port: int, topic: str) -> tuple[mqtt.Client, list[dict]]:
    seen: list[dict] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, msg: seen.append(json.loads(msg.payload))
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client, seen


def test_services_publish_state_write_the_summary_and_queue_requests(mosquitto, tmp_path):
    from devices.settings import BrokerSettings
    from devices.simulator.runner import SimConfig, Simulation

    cfg = make_config(tmp_path / "state", broker_port=mosquitto.port)
    sim = Simulation(SimConfig(broker=BrokerSettings(host="127.0.0.1", port=mosquitto.port),
                               building=cfg.building_id, doors=1, lockers=1, health=0, compartments=4))
    sim.start()
    assert sim.wait_ready(10)
    watcher, states = kiosk_state_watcher(mosquitto.port, f"lobby/v1/{cfg.building_id}/kiosk/{cfg.kiosk_id}/state")
    services = Services(cfg, voice_factory=None, state_interval_s=0.2)
    ui_thread = threading.current_thread()
    results: dict = {}
    try:
        services.start()
        pump(lambda: services.devices.available("locker"), what="locker online through the link")
        av = services.availability()
        assert (av.devices, av.locker, av.requests) == (None, None, None)
        assert av.voice == "common.unavail_voice" and av.health == "common.unavail_health"

        body = {"channel": "touch", "category": "repair", "urgency": "normal", "summary": "厨房灯不亮",
                "contact": {"room": "3-2-301", "phone": None}}

        def done(enq):
            results["thread"] = threading.current_thread()
            results["enq"] = enq

        services.requests.submit(body, done, lambda err: results.setdefault("err", err))
        pump(lambda: "enq" in results or "err" in results, what="enqueued")
        assert "err" not in results and results["thread"] is ui_thread  # callbacks on the UI thread
        services.requests.find(room="3-2-301", on_done=lambda views: results.setdefault("found", views))
        pump(lambda: "found" in results, what="find")
        assert [v.local_ticket for v in results["found"]] == [results["enq"].local_ticket]

        # the kiosk's retained state on the broker shows the queued request
        pump(lambda: any(s.get("outbox_depth") == 1 for s in states), what="kiosk state with depth 1")
        # the heartbeat summary, read back the way the sync agent reads it
        path = devices_summary_path(cfg.sync)
        pump(lambda: len(DeviceSummary(path).devices()) == 2, what="two devices in the summary")
        assert {(d["kind"], d["availability"]) for d in DeviceSummary(path).devices()} == {
            ("door", "online"), ("locker", "online")}
        assert "3-2-301" not in path.read_text()  # nothing personal in the summary

        # bad input is refused with a reason, nothing stored
        services.requests.submit({"channel": "touch"}, None, lambda err: results.setdefault("bad", err))
        pump(lambda: "bad" in results, what="refusal")
        assert failure_key(results["bad"]) == "common.err_invalid_request"

        # the broker goes away: the reason changes, requests are still accepted
        mosquitto.stop()
        pump(lambda: services.availability().devices == "common.unavail_broker", what="broker down")
        services.requests.submit(body, lambda enq: results.setdefault("enq2", enq), None)
        pump(lambda: "enq2" in results, what="queued while the broker is down")
        services.devices.pickup("123456", None, lambda err: results.setdefault("pickup_err", err))
        pump(lambda: "pickup_err" in results, what="pickup refused")
    finally:
        services.stop()
        watcher.loop_stop()
        sim.stop(graceful=False)


def test_services_start_with_no_subsystem_and_say_why():
    cfg = make_config(__import__("pathlib").Path("/nonexistent/lobby-state"))
    services = Services(cfg, link_factory=None, outbox_factory=None, voice_factory=None, state_interval_s=0.2)
    errors: list = []
    services.start()
    try:
        services.devices.pickup("123456", None, errors.append)
        services.requests.submit({"channel": "touch"}, None, errors.append)
        pump(lambda: len(errors) == 2, what="two refusals")
        assert all(isinstance(e, Unavailable) for e in errors)
        assert {failure_key(e) for e in errors} == {"common.unavail_devices", "common.unavail_requests"}
        session = services.voice.listen(None, None, errors.append)
        pump(lambda: len(errors) == 3, what="voice refusal")
        assert errors[2] == "voice disabled"
        session.cancel()
        av = services.availability()
        assert av.voice == "common.unavail_voice" and av.devices == "common.unavail_devices"
    finally:
        services.stop()


def test_voice_service_loads_the_configured_vocabulary_off_the_ui_thread(tmp_path):
    import dataclasses
    import shutil

    from kiosk.services.voice import VoiceAccess
    from voice import intent
    from voice.vocabulary import DEFAULT_PATH

    vocab = tmp_path / "vocabulary.toml"
    shutil.copy(DEFAULT_PATH, vocab)
    with open(vocab, "a", encoding="utf-8") as f:
        f.write('\n[[categories.parking.topics]]\nlabel = "共享单车"\nweight = 2.0\n'
                'keywords = ["共享单车", "小黄车"]\nphrases = ["小黄车堵在门口"]\n')
    said = "小黄车 太多 了 走 路 都 费劲"
    cfg = make_config(tmp_path / "state")
    settings = dataclasses.replace(cfg.voice, vocabulary_file=str(vocab), model_path=str(tmp_path / "no-model"))
    access = VoiceAccess(settings)
    try:
        access.start()
        deadline = time.monotonic() + 20
        while "共享单车" not in access.parse(said).summary:  # the topic only the configured file has
            assert time.monotonic() < deadline, "the configured vocabulary was never loaded"
            time.sleep(0.05)
        assert access.status().state in ("loading", "unavailable")  # no model: touch only
    finally:
        access.stop()
        intent.use_vocabulary(None)
    assert "共享单车" not in intent.parse(said).summary  # back to the bundled vocabulary


def test_a_flood_of_device_states_reaches_ui_listeners_coalesced_and_in_the_latest_state(mosquitto, tmp_path):
    """300 door states in a burst: the UI listener runs on the UI thread, far fewer times than
    messages arrived (at most once per device every 0.1 s), and ends with the last state sent."""
    cfg = make_config(tmp_path / "state", broker_port=mosquitto.port)
    services = Services(cfg, voice_factory=None, outbox_factory=None, state_interval_s=3600)
    ui_thread = threading.current_thread()
    calls: list = []
    services.devices.add_listener(lambda info: calls.append((info.state, threading.current_thread())))
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        services.start()
        pump(lambda: services.devices.connected, what="link connected")
        topic = f"lobby/v1/{cfg.building_id}/door/door-1/state"
        messages = 300
        for i in range(messages):
            client.publish(topic, json.dumps({"locked": i % 2 == 0, "door_open": i == messages - 1, "fault": None,
                                              "ts": "2026-11-22T03:00:00Z"}), qos=1)
        pump(lambda: calls and calls[-1][0]["door_open"], what="the last state on the UI thread")
        assert services.devices.link.received >= messages
        assert len(calls) < messages // 3, len(calls)
        assert all(thread is ui_thread for _state, thread in calls)
    finally:
        client.loop_stop()
        services.stop()


def test_a_nice_pool_runs_below_the_ui_thread_and_threads_it_starts_inherit_that():
    """The voice worker's pool (nice=5): on two cores the recognizer must not take the CPU from the UI."""
    import os

    from kiosk.services.pool import Pool

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def from_a_started_thread() -> int:
        seen: list[int] = []
        t = threading.Thread(target=lambda: seen.append(niceness()))
        t.start()
        t.join()
        return seen[0]

    ui = niceness()
    pool = Pool("test-nice", workers=1, nice=5)
    try:
        assert pool.run(niceness).result(5) == ui + 5
        assert pool.run(from_a_started_thread).result(5) == ui + 5
    finally:
        pool.shutdown()
    assert niceness() == ui  # the UI thread keeps its priority
