"""Parcel pickup driven by taps through a real broker and the simulated locker bank."""

from __future__ import annotations

import json

from tests.kiosk.flows.conftest import BUILDING, CODES, type_digits

LOCKER_EVENTS = f"lobby/v1/{BUILDING}/locker/+/event"


def _open_parcel(d, app):
    yield from d.wait(lambda: app.services.devices.available("locker"), 15, "the locker bank online")
    home = app.screen("home")
    yield from d.wait(lambda: not home.ids.btn_parcel.reason, 5, "取快递 usable on home")
    yield from d.tap(d.find(id="btn_parcel"))
    yield from d.wait(lambda: app.current == "parcel", 5, "the parcel screen")


def test_right_code_opens_the_compartment_shown_in_huge_type(simulator, site_factory, services_for,
                                                             kiosk_app, flow_drive, watch):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))
    events = watch(LOCKER_EVENTS)

    def scenario(d):
        yield from _open_parcel(d, app)
        screen = app.screen("parcel")
        yield from type_digits(d, screen.ids.keypad, CODES[0])
        assert d.find_all(id="code_box")[0].text == " ".join(CODES[0])
        yield from d.tap(d.find(id="open_button"))
        yield from d.wait(lambda: screen.step == "opened", 10, "the compartment to open")
        opened = [p["compartment"] for p in events.payloads("/event") if p.get("type") == "door_opened"]
        assert opened, "the locker never reported a door opening"
        shown = d.find_all(id="compartment_label")[0]
        assert shown.text == opened[-1]
        assert shown.font_size >= app.theme.font_huge
        assert d.find_all(text="柜门已打开，请取件")
        assert screen.code == "" and screen.ids.keypad.value == ""   # the code is forgotten once sent

    flow_drive(app, scenario)


def test_wrong_codes_say_so_then_lock_out_with_minutes_left(simulator, site_factory, services_for,
                                                            kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _open_parcel(d, app)
        screen = app.screen("parcel")
        yield from d.tap(d.find(id="open_button"))             # nothing typed yet
        assert screen.step == "enter" and d.find_all(text="请输满6位数字")
        for attempt in range(5):
            yield from type_digits(d, screen.ids.keypad, "909090")
            yield from d.tap(d.find(id="open_button"))
            yield from d.wait(lambda: screen.step in ("failed", "locked"), 10, f"answer to wrong code {attempt + 1}")
            if screen.step == "locked":
                break
            assert d.find_all(id="failure_badge")[0].text == "取件码不对，请再看一看短信"
            yield from d.tap(d.find(id="try_again_button"))
        yield from d.wait(lambda: screen.step == "locked", 5, "the lock-out")
        assert d.find_all(id="locked_badge")[0].text == "取件码输错太多次，请5分钟后再试"
        assert not d.find_all(id="keypad"), "the keypad must be gone while locked out"
        guard = json.loads((site.state_dir / "pickup-guard.json").read_text())
        assert guard["locked_until"] > 0

    flow_drive(app, scenario)


def test_jammed_locker_is_said_in_plain_words(simulator, site_factory, services_for, kiosk_app, flow_drive, fault):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))
    fault.set("locker-1", "jam")

    def scenario(d):
        yield from _open_parcel(d, app)
        screen = app.screen("parcel")
        yield from type_digits(d, screen.ids.keypad, CODES[1])
        yield from d.tap(d.find(id="open_button"))
        yield from d.wait(lambda: screen.step == "failed", 10, "the jammed answer")
        assert d.find_all(id="failure_badge")[0].text == "柜门卡住了，打不开，请找物业帮忙"

    flow_drive(app, scenario)


def test_offline_locker_is_shown_on_the_button_before_any_tap(simulator, site_factory, services_for,
                                                              kiosk_app, flow_drive, fault):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _open_parcel(d, app)
        screen = app.screen("parcel")
        fault.set("locker-1", "offline")
        yield from d.wait(lambda: not app.services.devices.available("locker"), 10, "the locker offline")
        yield from d.tap(d.find(id="back"))
        yield from d.wait(lambda: app.current == "home", 5, "home")
        assert app.screen("home").ids.btn_parcel.reason
        app.navigate("parcel")                                  # e.g. it went offline while there
        yield from d.frames(2)
        yield from type_digits(d, screen.ids.keypad, CODES[2])
        button = d.find(id="open_button")
        assert button.reason == "快递柜暂时连不上"
        yield from d.tap(button)
        assert screen.step == "enter", "a tap on an unavailable locker must not start a pickup"

    flow_drive(app, scenario)


def test_locker_that_does_not_answer_in_time_is_said_in_plain_words(simulator, site_factory, services_for,
                                                                    kiosk_app, flow_drive, fault):
    site = site_factory()
    cfg = site.write_config()                 # command timeout 3 s; the locker answers after 8 s
    app = kiosk_app(cfg, services=services_for(cfg))
    fault.set("locker-1", "slow:8")

    def scenario(d):
        yield from _open_parcel(d, app)
        screen = app.screen("parcel")
        yield from type_digits(d, screen.ids.keypad, CODES[2])
        yield from d.tap(d.find(id="open_button"))
        assert screen.step == "opening"
        yield from d.wait(lambda: screen.step == "failed", 15, "the kiosk to give up")
        assert d.find_all(id="failure_badge")[0].text == "快递柜没有回应，请再试一次"
        yield from d.tap(d.find(id="try_again_button"))
        assert screen.step == "enter" and screen.code == ""

    flow_drive(app, scenario)
