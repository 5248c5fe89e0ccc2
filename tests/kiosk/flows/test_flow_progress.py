"""Progress: find by room or ticket on the keypad, status in words (updated by staff on the central
server and pulled back by the agent), masked room numbers, and a five-star rating that reaches the
central."""

from __future__ import annotations

from sync.outbox import Outbox
from tests.kiosk.flows.conftest import screen_texts, type_digits, wait_until

BODY = {"channel": "touch", "category": "public_facility", "urgency": "normal", "summary": "楼道灯不亮",
        "location": "楼道", "contact": {"room": "1201", "phone": None}, "tags": []}


def _enqueue(cfg, body=BODY):
    outbox = Outbox.open(cfg.sync)
    try:
        return outbox.enqueue(body)
    finally:
        outbox.close()


def _open_progress(d, app):
    yield from d.tap(d.find(id="btn_progress"))
    yield from d.wait(lambda: app.current == "progress", 5, "the progress screen")


def test_done_request_found_by_room_with_staff_note_and_rated(central, site_factory, services_for, kiosk_app,
                                                              flow_drive):
    site = site_factory(central)
    cfg = site.write_config()
    queued = _enqueue(cfg)
    site.start_agent()
    delivered = wait_until(lambda: [r for r in central.requests() if r["id"] == queued.id], 20, "delivery")
    central.staff("POST", f"/staff/v1/requests/{queued.id}/status", {"status": "done", "note": "已换新灯泡"})
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from d.wait(lambda: _status(cfg, queued.id) == "done", 20, "the agent to pull the update")
        yield from _open_progress(d, app)
        screen = app.screen("progress")
        assert screen.mode == "room"
        yield from type_digits(d, screen.ids.keypad, "1201")
        yield from d.tap(d.find(id="find_button"))
        yield from d.wait(lambda: screen.step == "list", 10, "the results")
        assert [r["id"] for r in screen.results] == [queued.id]
        texts = screen_texts(d)
        assert "已办结" in texts
        assert "物业说：已换新灯泡" in "\n".join(texts)
        assert f"单号 {delivered[0]['ticket']}" in texts          # the central's ticket, once known
        assert not [t for t in texts if "1201" in t], "the room number must be masked on screen"
        yield from d.tap(d.find(id="rate_button"))
        assert screen.step == "rate"
        stars = [d.find(id=f"star_{n}") for n in range(1, 6)]
        assert all(app.theme.px_to_mm(s.height) >= 15 and app.theme.px_to_mm(s.width) >= 15 for s in stars)
        yield from d.tap(stars[3])
        yield from d.wait(lambda: screen.rated_stars == "4", 10, "the rating to be stored")
        assert d.find_all(id="rated_label")[0].text == "谢谢您的评价：4星"

    flow_drive(app, scenario)
    rated = wait_until(lambda: [r for r in central.requests() if r["id"] == queued.id and r.get("rating")],
                       20, "the rating at the central")
    assert rated[0]["rating"]["stars"] == 4


def _status(cfg, request_id):
    outbox = Outbox.open(cfg.sync)
    try:
        view = outbox.request(request_id)
        return view.status if view else None
    finally:
        outbox.close()


def test_find_by_ticket_shows_waiting_and_not_sent_yet(site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory()                        # no central: the request waits in the outbox
    cfg = site.write_config()
    queued = _enqueue(cfg)
    app = kiosk_app(cfg, services=services_for(cfg))
    digits = str(int(queued.local_ticket.split("-")[1]))  # K-0001 is typed as 1

    def scenario(d):
        yield from _open_progress(d, app)
        screen = app.screen("progress")
        yield from d.tap(d.find(id="by_ticket"))
        assert screen.mode == "ticket"
        yield from type_digits(d, screen.ids.keypad, "99")
        yield from d.tap(d.find(id="find_button"))
        yield from d.wait(lambda: screen.step == "list", 10, "the (empty) results")
        assert d.find_all(id="none_found")[0].text == "没有找到请求，请看看号码对不对"
        yield from d.tap(d.find(id="search_again"))
        yield from d.tap(d.find(id="by_ticket"))
        yield from type_digits(d, screen.ids.keypad, digits)
        yield from d.tap(d.find(id="find_button"))
        yield from d.wait(lambda: screen.step == "list" and screen.results, 10, "the request")
        texts = "\n".join(screen_texts(d))
        assert "待接收" in texts and "还没送到物业，网络恢复后会自动发送" in texts
        assert not d.find_all(id="rate_button"), "only finished requests can be rated"
        yield from d.tap(d.find(id="home"))
        yield from d.wait(lambda: app.current == "home", 5, "home")
        assert screen.results == [] and screen.entry == ""

    flow_drive(app, scenario)
