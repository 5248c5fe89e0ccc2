"""Blood pressure: cuff steps, measuring, the reading with its band; nothing sent without consent;
a very high reading offers urgent help in one tap. Real broker, simulated (and one hand-made)
health station speaking the MQTT contract, the outbox, the agent and the central server."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest

from tests.kiosk.flows.conftest import BUILDING, outbox_rows, wait_until

# The guideline's bands, written out here (not taken from the code under test): lowest first.
GUIDELINE = [("正常", 0, 0), ("正常高值", 120, 80), ("1级高血压", 140, 90), ("2级高血压", 160, 100),
             ("3级高血压", 180, 110)]


def expected_band(systolic: int, diastolic: int) -> str:
    name = "正常"
    for band, s, d in GUIDELINE:
        if systolic >= s or diastolic >= d:
            name = band
    return name


def _measure(d, app):
    yield from d.wait(lambda: app.services.devices.available("health"), 15, "the health station online")
    home = app.screen("home")
    yield from d.wait(lambda: not home.ids.btn_health.reason, 5, "量血压 usable on home")
    yield from d.tap(d.find(id="btn_health"))
    yield from d.wait(lambda: app.current == "health", 5, "the health screen")
    screen = app.screen("health")
    assert [w.text for w in d.find_all(cls="Label") if w.text.startswith(("1 ", "2 ", "3 "))], "no cuff steps"
    yield from d.tap(d.find(id="start_button"))
    assert screen.step in ("measuring", "result")             # the simulator measures in 1 s
    if screen.step == "measuring":
        assert d.find_all(id="progress_bar") and d.find_all(text="正在测量……")
    yield from d.wait(lambda: screen.step in ("result", "failed"), 20, "the reading")
    assert screen.step == "result", screen.message


def _reading_events(watcher):
    return [p for p in watcher.payloads("/event") if isinstance(p, dict) and p.get("type") == "reading"]


def test_reading_with_band_and_declined_consent_sends_nothing(simulator, site_factory, services_for, kiosk_app,
                                                              flow_drive, watch):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))
    events = watch(f"lobby/v1/{BUILDING}/health/+/event")

    def scenario(d):
        yield from _measure(d, app)
        screen = app.screen("health")
        reading = _reading_events(events)[-1]
        assert d.find_all(id="systolic_label")[0].text == str(reading["systolic"])
        assert d.find_all(id="diastolic_label")[0].text == str(reading["diastolic"])
        assert d.find_all(id="systolic_label")[0].font_size >= app.theme.font_huge
        band = d.find_all(id="band_badge")[0]
        assert band.text.startswith(expected_band(reading["systolic"], reading["diastolic"]))
        assert d.find_all(id="advice_label")[0].text.endswith("。")
        assert not d.find_all(id="urgent_button"), "urgent help is only for >= 180/110"
        assert d.find_all(id="consent_question")[0].text == "把结果发给物业/家人医生？"
        yield from d.tap(d.find(id="consent_no"))
        assert screen.consent == "declined"
        assert d.find_all(id="consent_question")[0].text == "结果没有发出，只在这里显示"
        yield from d.frames(3)
        assert outbox_rows(site.state_dir) == []

    flow_drive(app, scenario)


def test_consent_sends_the_reading_to_the_central(simulator, central, site_factory, services_for, kiosk_app,
                                                  flow_drive, watch):
    site = site_factory(central)
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))
    events = watch(f"lobby/v1/{BUILDING}/health/+/event")
    seen: dict = {}

    def scenario(d):
        yield from _measure(d, app)
        seen.update(_reading_events(events)[-1])
        yield from d.tap(d.find(id="consent_yes"))
        yield from d.wait(lambda: app.screen("health").consent == "sent", 10, "the reading to be stored")
        row = outbox_rows(site.state_dir)[0]
        assert json.loads(row["body"])["health"]["systolic"] == seen["systolic"]

    flow_drive(app, scenario)
    got = wait_until(lambda: [r for r in central.requests() if r.get("kiosk_id") == "kiosk-f"
                              and r.get("health")], 20, "the central to receive the reading")
    assert (got[0]["health"]["systolic"], got[0]["health"]["diastolic"]) == (seen["systolic"], seen["diastolic"])


def test_station_offline_is_said_on_the_start_button(simulator, site_factory, services_for, kiosk_app,
                                                     flow_drive, fault):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))
    fault.set("health-1", "offline")

    def scenario(d):
        yield from d.wait(lambda: app.services.devices.connected, 15, "the broker link")
        yield from d.frames(5)
        app.navigate("health")
        yield from d.frames(2)
        button = d.find(id="start_button")
        assert button.reason == "血压计暂时连不上"
        yield from d.tap(button)
        assert app.screen("health").step == "steps"

    flow_drive(app, scenario)


class HighReadingStation:
    """A health station speaking the MQTT contract that always measures 186/112 (the simulator's
    readings stay in a plausible everyday range, so the urgent path needs its own station)."""

    def __init__(self, broker, building: str, device_id: str = "health-9") -> None:
        self.root = f"lobby/v1/{building}/health/{device_id}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.will_set(f"{self.root}/availability", "offline", qos=1, retain=True)
        self.client.on_connect = self._connected
        self.client.on_message = self._command
        self.ready = threading.Event()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _connected(self, client, *_a) -> None:
        client.subscribe(f"{self.root}/cmd", qos=1)
        client.publish(f"{self.root}/state", json.dumps(
            {"ready": True, "cuff_connected": True, "fault": None, "ts": self._now()}), qos=1, retain=True)
        client.publish(f"{self.root}/availability", "online", qos=1, retain=True)
        self.ready.set()

    def _command(self, client, _u, msg) -> None:
        cmd = json.loads(msg.payload)
        client.publish(cmd["reply_to"], json.dumps({"id": cmd["id"], "ok": True, "result": {}}), qos=1)
        if cmd["op"] == "measure":
            client.publish(f"{self.root}/event", json.dumps(
                {"type": "reading", "ts": self._now(), "systolic": 186, "diastolic": 112, "pulse": 88,
                 "irregular": False}), qos=1)

    def close(self) -> None:
        self.client.publish(f"{self.root}/availability", "offline", qos=1, retain=True).wait_for_publish(5)
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def high_station(flow_broker):
    station = HighReadingStation(flow_broker, "flow-u")
    assert station.ready.wait(10)
    yield station
    station.close()


def test_very_high_reading_offers_urgent_help_in_one_tap(high_station, site_factory, services_for, kiosk_app,
                                                         flow_drive):
    site = site_factory(building="flow-u")
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _measure(d, app)
        screen = app.screen("health")
        assert d.find_all(id="band_badge")[0].text.startswith("3级高血压")
        assert d.find_all(id="band_badge")[0].style == "danger"
        urgent = d.find(id="urgent_button")
        assert urgent.text == "马上求助"
        yield from d.tap(urgent)
        yield from d.wait(lambda: screen.urgent_state == "sent", 10, "the urgent request")
        assert d.find(id="urgent_button").text == "已通知物业，请坐下等候"
        rows = outbox_rows(site.state_dir)
        assert [(r["category"], r["urgency"]) for r in rows] == [("medical", "urgent")]
        assert "health" not in json.loads(rows[0]["body"]), "no reading without the resident's consent"

    flow_drive(app, scenario)
