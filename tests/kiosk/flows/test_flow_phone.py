"""The optional call-back number: typed on a big keypad in the repair, voice and emergency flows, sent as
`contact.phone`, never on screen unmasked (only the last typed digit while typing), forgotten on idle."""

from __future__ import annotations

import json

import pytest

from kiosk.screens.contact_entry import phone_problem, typing_display
from tests.kiosk.conftest import ManualClock
from tests.kiosk.flows.conftest import outbox_rows, screen_texts, type_digits, wait_until

PHONE = "13957246813"
MASKED = "139****6813"


def _voice_card(d, app, words: str):
    """The voice screen's confirmation card for typed `words` (no model here), once voice has settled."""
    yield from d.wait(lambda: app.services.voice.status().state != "loading", 20, "voice to settle")
    app.navigate("voice")
    yield from d.frames(2)
    app.screen("voice").understand(words)
    yield from d.frames(2)


def _unmasked(texts: list[str], phone: str = PHONE) -> list[str]:
    """Texts showing more of the number than its masked form: the whole of it, or any 5 digits of its
    middle in a row (the masked form shows only the first 3 and the last 4)."""
    middle = phone[3:-4]
    bad = []
    for text in texts:
        digits = "".join(ch for ch in text if ch.isdigit())
        if phone in digits or middle in digits:
            bad.append(text)
    return bad


@pytest.mark.parametrize("digits, problem", [
    ("13957246813", None), ("19912345678", None), ("01062345678", None), ("075512345678", None),
    ("62345678", None), ("6234567", None),
    ("1395724681", "request.phone_bad_mobile"), ("12957246813", "request.phone_bad_mobile"),
    ("139572468130", "request.phone_bad_mobile"), ("010123", "request.phone_bad_landline"),
    ("623456", "request.phone_bad_landline"), ("", "request.phone_empty"),
])
def test_phone_numbers_are_checked(digits, problem):
    assert phone_problem(digits) == problem


def test_only_the_last_typed_digit_is_readable():
    assert typing_display("") == ""
    assert typing_display("1") == "1"
    assert typing_display("1395") == "●●● 5"
    assert typing_display(PHONE) == "●●● ●●●● ●●●3"
    assert _unmasked([typing_display(PHONE[:n]) for n in range(1, 12)]) == []


def test_touch_repair_with_phone_reaches_the_central_and_is_never_shown_whole(central, site_factory, services_for,
                                                                            kiosk_app, flow_drive):
    site = site_factory(central)
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))
    seen: list[str] = []

    def scenario(d):
        yield from d.tap(d.find(id="btn_repair"))
        yield from d.wait(lambda: app.current == "repair", 5, "the repair screen")
        screen = app.screen("repair")
        yield from d.tap(d.find(text="居家维修"))
        yield from d.tap(d.find(text="灯不亮"))
        yield from d.tap(d.find(id="skip_location"))
        yield from d.tap(d.find(id="room_skip"))
        assert screen.step == "phone"
        assert d.find(id="phone_skip").text == "不留电话"
        keypad = screen.ids.phone_entry.ids.phone_keypad
        yield from type_digits(d, keypad, "139")
        yield from d.tap(d.find(id="phone_ok"))              # too short: says why, stays
        assert screen.step == "phone" and "11位" in d.find_all(id="phone_error")[0].text
        for ch in PHONE[3:]:
            yield from type_digits(d, keypad, ch)
            seen.extend(screen_texts(d))
        box = d.find_all(id="phone_box")[0].text
        assert box == "●●● ●●●● ●●●3" and d.find_all(id="phone_error")[0].text == ""
        assert "11" in d.find_all(id="phone_count")[0].text
        yield from d.tap(d.find(id="phone_ok"))
        assert screen.step == "confirm"
        assert screen.ids.phone_entry.value == "" and keypad.value == ""   # the entry forgets it at once
        card = d.find_all(id="confirm_card")[0]
        assert d.find_all(id="card_phone")[0].text == f"回电电话：{MASKED}" and card.phone == MASKED
        seen.extend(screen_texts(d))
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: screen.step == "ticket", 10, "the ticket")
        yield from d.frames(2)
        assert d.find_all(id="ticket_phone")[0].text == f"回电号码：{MASKED}"
        assert d.find_all(id="promise_label")[0].text == "48小时内处理"
        seen.extend(screen_texts(d))
        yield from d.tap(d.find(id="home"))
        yield from d.wait(lambda: app.current == "home", 5, "home")
        assert (screen.draft_phone, screen._draft) == ("", None)

    flow_drive(app, scenario)
    assert MASKED in "\n".join(seen)                      # the walk saw the masked number...
    assert _unmasked(seen) == []                          # ...and never the whole or its middle
    body = json.loads(outbox_rows(site.state_dir)[0]["body"])
    assert body["contact"] == {"room": None, "phone": PHONE}
    got = wait_until(lambda: [r for r in central.requests() if r.get("kiosk_id") == "kiosk-f"
                              and r["contact"].get("phone") == PHONE], 20, "the central to receive the phone")
    assert got[0]["category"] == "repair"


def test_voice_request_takes_a_phone_from_the_card_and_promises_the_call_back(site_factory, services_for,
                                                                            kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))
    seen: list[str] = []

    def scenario(d):
        yield from _voice_card(d, app, "电梯里有人被困住了")
        screen = app.screen("voice")
        assert screen.step == "confirm" and screen.draft_urgency == "urgent"
        assert d.find_all(id="card_phone")[0].text == "回电电话：没有留"
        yield from d.tap(d.find(id="add_phone"))
        assert screen.step == "phone"
        yield from d.tap(d.find(id="back"))                  # 返回 goes back to the card
        assert screen.step == "confirm"
        yield from d.tap(d.find(id="add_phone"))
        yield from type_digits(d, screen.ids.phone_entry.ids.phone_keypad, "01062345678")
        seen.extend(screen_texts(d))
        yield from d.tap(d.find(id="phone_ok"))
        assert screen.step == "confirm" and screen.draft_phone == "010****5678"
        seen.extend(screen_texts(d))
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: screen.step == "ticket", 10, "the ticket")
        yield from d.frames(2)
        assert d.find_all(id="promise_label")[0].text == "物业将在30分钟内回电"
        assert "62345" not in screen.spoken                  # read aloud without the number
        seen.extend(screen_texts(d))

    flow_drive(app, scenario)
    assert _unmasked(seen, "01062345678") == []
    body = json.loads(outbox_rows(site.state_dir)[0]["body"])
    assert (body["urgency"], body["contact"]["phone"]) == ("urgent", "01062345678")


def test_urgent_without_phone_promises_a_visit_not_a_call(site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _voice_card(d, app, "电梯里有人被困住了")
        screen = app.screen("voice")
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: screen.step == "ticket", 10, "the ticket")
        yield from d.frames(2)
        assert d.find_all(id="promise_label")[0].text == "物业将在30分钟内派人处理"
        assert d.find_all(id="ticket_phone")[0].text == ""

    flow_drive(app, scenario)


def test_emergency_offers_the_phone_after_notifying_and_sends_it_as_a_follow_up(site_factory, services_for,
                                                                              kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))
    seen: list[str] = []

    def scenario(d):
        screen = app.screen("emergency")
        screen.countdown_s = 1
        yield from d.tap(d.find(id="btn_emergency"))
        assert not d.find_all(id="leave_phone")              # the countdown asks for nothing
        yield from d.wait(lambda: screen.step == "notified", 10, "已通知物业")
        yield from d.frames(2)
        ticket = screen.ticket
        assert ticket and len(outbox_rows(site.state_dir)) == 1
        yield from d.tap(d.find(id="leave_phone"))
        assert screen.step == "phone"
        yield from type_digits(d, screen.ids.phone_entry.ids.phone_keypad, PHONE)
        seen.extend(screen_texts(d))
        yield from d.tap(d.find(id="phone_ok"))
        yield from d.wait(lambda: screen.phone_state == "sent", 10, "the number saved")
        yield from d.frames(2)
        assert screen.step == "notified" and not d.find_all(id="leave_phone")
        assert d.find_all(id="phone_note")[0].text == f"已把回电号码 {MASKED} 告诉物业"
        seen.extend(screen_texts(d))
        rows = outbox_rows(site.state_dir)
        assert len(rows) == 2
        first, follow = (json.loads(r["body"]) for r in rows)
        assert first["contact"]["phone"] is None and follow["contact"]["phone"] == PHONE
        assert ticket in follow["summary"] and follow["urgency"] == "urgent"
        assert "callback_number" in follow["tags"]

    flow_drive(app, scenario)
    assert _unmasked(seen) == []


def test_idle_forgets_a_half_typed_and_a_given_phone(site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    clock = ManualClock()
    app = kiosk_app(cfg, services=services_for(cfg), now=clock)

    def run_out_idle(d):
        clock.advance(cfg.ui.idle_timeout_s + 1)
        yield from d.wait(lambda: app.prompt is not None, 10, "the idle prompt")
        clock.advance(16)
        yield from d.wait(lambda: app.current == "home", 10, "home after idle")

    def scenario(d):
        yield from _voice_card(d, app, "厨房的灯坏了")
        screen = app.screen("voice")
        yield from d.tap(d.find(id="add_phone"))
        entry = screen.ids.phone_entry
        yield from type_digits(d, entry.ids.phone_keypad, PHONE[:7])
        assert entry.value == PHONE[:7]
        yield from run_out_idle(d)
        assert (entry.value, entry.shown, entry.ids.phone_keypad.value) == ("", "", "")
        assert screen._draft is None and screen.step == "idle"
        yield from _voice_card(d, app, "厨房的灯坏了")
        yield from d.tap(d.find(id="add_phone"))
        yield from type_digits(d, entry.ids.phone_keypad, PHONE)
        yield from d.tap(d.find(id="phone_ok"))
        assert screen.draft_phone == MASKED
        yield from run_out_idle(d)
        assert screen.draft_phone == "" and screen._draft is None
        app.navigate("voice")
        yield from d.frames(2)
        assert _unmasked(screen_texts(d)) == [] and MASKED not in "\n".join(screen_texts(d))

    flow_drive(app, scenario)
    assert outbox_rows(site.state_dir) == []
