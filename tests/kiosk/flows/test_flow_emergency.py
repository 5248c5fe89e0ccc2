"""Emergency: one tap, a 5-second countdown with 取消, then an urgent request that reaches the
central service through the outbox and the agent; with the central down it is still accepted."""

from __future__ import annotations

import json
import time

from tests.kiosk.flows.conftest import outbox_rows, wait_until


def _press_emergency(d, app):
    yield from d.tap(d.find(id="btn_emergency"))
    yield from d.wait(lambda: app.current == "emergency", 5, "the emergency screen")


def test_countdown_then_urgent_request_reaches_the_central(central, site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory(central)
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _press_emergency(d, app)
        screen = app.screen("emergency")
        assert screen.step == "countdown"
        assert d.find_all(id="countdown_label")[0].text in {"5", "4"}
        assert d.find(id="cancel_button").height >= app.theme.button_height * 2 - 1
        yield from d.wait(lambda: screen.step == "notified", 15, "the countdown to end")
        assert d.find_all(id="notified_badge")[0].text == "已通知物业"
        shown = {w.text for w in d.find_all(cls="Label")}
        assert {"120", "110", "119"} <= shown
        numbers = [w for w in d.find_all(cls="Label") if w.text == "120"]
        assert numbers[0].font_size >= app.theme.font_huge
        rows = outbox_rows(site.state_dir)
        assert [(r["category"], r["urgency"]) for r in rows] == [("medical", "urgent")]

    flow_drive(app, scenario)
    got = wait_until(lambda: [r for r in central.requests() if r.get("kiosk_id") == "kiosk-f"
                              and r.get("urgency") == "urgent"], 20, "the central to receive it")
    assert got[0]["category"] == "medical" and got[0]["channel"] == "touch"


def test_cancel_sends_nothing(site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _press_emergency(d, app)
        screen = app.screen("emergency")
        yield from d.tap(d.find(id="cancel_button"))
        assert screen.step == "cancelled"
        assert d.find_all(text="已取消，没有发送")
        until = time.monotonic() + screen.countdown_s + 1.5   # past the moment it would have sent
        yield from d.wait(lambda: time.monotonic() > until, 15, "the countdown time to pass")
        assert screen.step == "cancelled"
        assert outbox_rows(site.state_dir) == []

    flow_drive(app, scenario)


def test_central_down_still_accepted_and_says_it_will_be_sent(site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory()                       # central URL where nothing listens
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from d.wait(lambda: not app.services.requests.network_ok(), 20, "the agent to report the central down")
        yield from _press_emergency(d, app)
        screen = app.screen("emergency")
        yield from d.wait(lambda: screen.step == "notified", 15, "the countdown to end")
        assert d.find_all(id="notified_badge")[0].text == "已通知物业"
        assert "会自动发送" in d.find_all(id="offline_note")[0].text
        rows = outbox_rows(site.state_dir)
        assert len(rows) == 1 and rows[0]["urgency"] == "urgent" and rows[0]["delivery"] != "delivered"
        assert json.loads(rows[0]["body"])["category"] == "medical"

    flow_drive(app, scenario)
