"""Every step of the flow screens (not only the start and demo states CORE's walk sees) meets the
age-friendly rules in 大字 mode in both languages: targets, gaps, text size, text fitting, contrast,
the frame with 首页/返回 and instructions. Offline services: no network."""

from __future__ import annotations

from kiosk.services import Services
from kiosk.theme import PAIRS
from tests.kiosk.a11y import walk_steps

LONG = "因二次供水设备检修，本楼明天上午9点到下午5点停水，请提前储水。" * 25


def _voice(s):
    s.understand("电梯里有人被困住了")
    yield "confirm"
    s.ask_room()
    yield "room"
    s.room_given("302")
    s.ask_phone()
    yield "phone"
    s.ids.phone_entry.typed("13957246")
    s.ids.phone_entry.error_key = "request.phone_bad_landline"
    yield "phone typing, with the longest error"
    s.ids.phone_entry.clear()
    s.phone_given("13957246813")
    s.note, s.submit_error = s.t("voice.low_confidence"), s.t("request.submit_failed")
    yield "confirm with note and error"
    s._offer(*[s._draft, s._draft.with_room(None)])
    yield "choose"
    s.ticket, s.promise, s.offline, s.step = "K-0042", s.t("request.promise_urgent"), True, "ticket"
    yield "ticket offline"
    s.step, s.heard, s.level = "listening", "我家厨房的灯坏了，麻烦快点来修一下", 0.7
    yield "listening"


def _repair(s):
    s.choose_category("public_facility")
    yield "problem"
    s.choose_problem("public_facility.lift_trapped")
    yield "location"
    s.choose_location("elevator")
    yield "room"
    s.room_given("1201")
    yield "phone"
    s.phone_given("13957246813")
    yield "confirm with phone"
    s.ticket, s.promise, s.offline, s.step = "K-0042", s.t("request.promise_urgent"), True, "ticket"
    yield "ticket offline, with phone"


def _parcel(s):
    s.message, s.step = s.t("parcel.jammed"), "failed"
    yield "failed"
    s.message, s.step = s.t("parcel.locked", minutes=5), "locked"
    yield "locked"
    s.step = "opening"
    yield "opening"
    s.step, s.message = "enter", s.t("parcel.need_six")
    yield "enter with message"


def _health(s):
    s.show_demo_state()
    s.urgent, s.irregular = True, True
    yield "result urgent"
    s.consent, s.urgent_state = "declined", "sent"
    yield "result answered"
    s.progress, s.step = 0.4, "measuring"
    yield "measuring"
    s.message, s.step = s.t("health.failed"), "failed"
    yield "failed"


def _progress(s):
    s.show_demo_state()
    s.open_rating("d2", "100031")
    s.shown_stars, s.rated_stars = 4, "4"
    yield "rate"
    s.step, s.mode = "find", "ticket"
    yield "find by ticket"
    s.results, s.searched, s.step = [], True, "list"
    yield "none found"


def _emergency(s):
    s.step, s.offline, s.ticket = "notified", True, "K-0042"
    yield "notified offline, phone offered"
    s.ask_phone()
    yield "phone"
    s.phone_state, s.phone_masked, s.step = "sent", "139****6813", "notified"
    yield "notified, phone sent"
    s.phone_state = "failed"
    yield "notified, phone failed (offered again)"
    s.failed = True
    yield "notified failed"
    s.step = "cancelled"
    yield "cancelled"


def _notices(s):
    s.show_demo_state()
    s.open_notice({"id": "x", "title": "明天停水通知（二次供水设备检修）", "body": LONG, "priority": "high",
                   "ends_at": "2026-12-01T00:00:00Z"})
    yield "detail, long"
    s.body_page = len(s.body_pages) - 1
    yield "detail, last page"
    s.back_to_list()
    s.reset()
    s._loaded([])
    yield "no notices"


STATES = {"voice": _voice, "repair": _repair, "parcel": _parcel, "health": _health, "progress": _progress,
          "emergency": _emergency, "notices": _notices}


def test_every_step_meets_the_rules(kiosk_config, drive):
    from kiosk.app import KioskApp

    app = KioskApp(kiosk_config, services=Services.offline(kiosk_config))
    problems: list[str] = []

    def scenario(d):
        yield from walk_steps(d, app, STATES, [("en", True), ("zh", True)], problems)

    drive(app, scenario, timeout=400)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_urgency_and_band_colours_are_theme_pairs():
    """Urgency and blood-pressure colours come from the 7:1 pairs (never colour alone: words too)."""
    from kiosk.screens.health import BAND_BADGE
    from kiosk.screens.repair_request import URGENCY_ICON, URGENCY_STYLE

    assert set(URGENCY_STYLE) == set(URGENCY_ICON) == {"urgent", "high", "normal", "low"}
    assert set(URGENCY_STYLE.values()) <= set(PAIRS)
    assert set(BAND_BADGE.values()) <= {"ok", "warn", "danger"}
    assert URGENCY_STYLE["urgent"] == "danger"
