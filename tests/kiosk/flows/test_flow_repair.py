"""Touch repair: category pictures -> problem -> place -> room -> confirmation -> ticket, through the
outbox and the sync agent to the reference central server."""

from __future__ import annotations

import json

from tests.kiosk.flows.conftest import outbox_rows, type_digits, wait_until


def _open_repair(d, app):
    yield from d.tap(d.find(id="btn_repair"))
    yield from d.wait(lambda: app.current == "repair", 5, "the repair screen")


def test_touch_repair_reaches_the_central_with_place_and_room(central, site_factory, services_for,
                                                               kiosk_app, flow_drive):
    site = site_factory(central)
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _open_repair(d, app)
        screen = app.screen("repair")
        yield from d.tap(d.find(text="公共设施"))
        assert screen.step == "problem"
        yield from d.tap(d.find(text="有人困在电梯里"))
        assert screen.step == "location"
        yield from d.tap(d.find(text="电梯"))
        assert screen.step == "room"
        yield from type_digits(d, screen.ids.room_entry.ids.room_keypad, "1201")
        yield from d.tap(d.find(id="room_ok"))
        assert screen.step == "phone"                          # the optional call-back number
        yield from d.tap(d.find(id="phone_skip"))
        assert screen.step == "confirm"
        card = d.find_all(id="confirm_card")[0]
        assert (card.kind, card.urgency_text, card.summary, card.location, card.room) == (
            "公共设施", "非常紧急", "有人困在电梯里", "电梯", "1201")
        assert card.ids.urgency_badge.style == "danger"            # colour, with words and a symbol
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: screen.step == "ticket", 10, "the ticket")
        ticket = d.find_all(id="ticket_label")[0]
        assert ticket.text == outbox_rows(site.state_dir)[0]["local_ticket"]
        assert ticket.font_size >= app.theme.font_huge
        assert d.find_all(id="promise_label")[0].text == "物业将在30分钟内派人处理"   # no number to call

    flow_drive(app, scenario)
    got = wait_until(lambda: [r for r in central.requests() if r.get("kiosk_id") == "kiosk-f"
                              and r.get("category") == "public_facility"], 20, "the central to receive it")
    r = got[0]
    assert (r["urgency"], r["channel"], r["location"], r["contact"]["room"]) == ("urgent", "touch", "电梯", "1201")
    assert r["summary"] == "电梯困人"


def test_wrong_choice_starts_again_and_home_forgets(site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _open_repair(d, app)
        screen = app.screen("repair")
        yield from d.tap(d.find(text="居家维修"))
        yield from d.tap(d.find(text="灯不亮"))
        yield from d.tap(d.find(id="skip_location"))
        yield from d.tap(d.find(id="room_skip"))
        yield from d.tap(d.find(id="phone_skip"))
        assert screen.step == "confirm" and d.find_all(id="confirm_card")[0].room == ""
        yield from d.tap(d.find(text="不对，重选"))
        assert screen.step == "category" and screen.draft_summary == ""
        yield from d.tap(d.find(text="安全隐患"))
        yield from d.tap(d.find(text="闻到煤气味"))
        yield from d.tap(d.find(id="back"))                      # 返回 walks back one step
        assert screen.step == "problem"
        yield from d.tap(d.find(id="home"))
        yield from d.wait(lambda: app.current == "home", 5, "home")
        assert screen.step == "category" and screen.category == ""
        assert outbox_rows(site.state_dir) == []

    flow_drive(app, scenario)


def test_large_text_shows_every_category_on_screen_without_scrolling(site_factory, services_for, kiosk_app,
                                                                     flow_drive):
    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from d.tap(d.find(id="large_text"))
        yield from _open_repair(d, app)
        yield from d.frames(3)
        screen = app.screen("repair")
        grid = screen.ids.category_grid
        content = screen.ids.content
        tiles = [w for w in d.find_all(cls="PictureButton")]
        if grid.pages > 1:                                      # paged with taps, never scrolled
            for _ in range(grid.pages - 1):
                yield from d.tap(d.find(id="next_page"))
                yield from d.frames(2)
                tiles += d.find_all(cls="PictureButton")
        assert sorted({t.value for t in tiles}) == sorted(c.code for c in _catalog().categories)
        _, bottom = content.to_window(content.x, content.y)
        for t in d.find_all(cls="PictureButton"):
            assert t.to_window(t.x, t.y)[1] >= bottom - 1, f"tile {t.value} is cut off"
            assert app.theme.px_to_mm(t.height) >= 15
        label = next(w for w in d.find_all(cls="Label") if w.text in ("居家维修", "其他"))
        assert label.font_size >= 1.5 * app.theme.mm(8) - 0.5
        yield from d.tap(d.find(text="其他"))
        assert screen.step == "problem" and screen.category == "other"

    flow_drive(app, scenario)


def _catalog():
    from kiosk.screens.repair_catalog import shipped

    return shipped()


def test_body_in_outbox_is_what_the_contract_wants(site_factory, services_for, kiosk_app, flow_drive):
    """The stored body validates against the contract as the central will see it."""
    from sync.records import RequestBody

    site = site_factory()
    cfg = site.write_config()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _open_repair(d, app)
        yield from d.tap(d.find(text="环境卫生"))
        yield from d.tap(d.find(text="垃圾没清运"))
        yield from d.tap(d.find(text="楼道"))
        yield from d.tap(d.find(id="room_skip"))
        yield from d.tap(d.find(id="phone_skip"))
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: app.screen("repair").step == "ticket", 10, "the ticket")

    flow_drive(app, scenario)
    body = json.loads(outbox_rows(site.state_dir)[0]["body"])
    parsed = RequestBody.from_dict(body, wire=True)
    assert (parsed.category, parsed.urgency, parsed.location, parsed.room, parsed.phone, parsed.transcript) == (
        "sanitation", "normal", "楼道", None, None, None)
