"""Notices posted by staff on the central server reach the kiosk through the sync agent: the list
(high priority first, paged with taps), a notice's text (paged with taps), and 朗读."""

from __future__ import annotations

import pytest

from tests.kiosk.flows.conftest import screen_texts

LONG_BODY = "因二次供水设备检修，本楼明天上午9点到下午5点停水。" * 30      # longer than one page
TITLES = [f"通知{n:02d}" for n in range(12)]


@pytest.fixture(scope="module")
def posted(central):
    central.staff("POST", "/staff/v1/notices", {"title": "明天停水", "body": LONG_BODY, "priority": "high",
                                               "hours": 24})
    for title in TITLES:
        central.staff("POST", "/staff/v1/notices", {"title": title, "body": f"{title}的内容。", "hours": 24})
    return central


def _open_notices(d, app):
    yield from d.wait(lambda: len(app.services.requests.last_notices) >= 1 + len(TITLES), 30,
                      "the agent to pull the notices")
    yield from d.tap(d.find(id="btn_notices"))
    yield from d.wait(lambda: app.current == "notices" and app.screen("notices").notices, 10, "the list")
    yield from d.frames(2)


def test_high_priority_notice_first_then_its_text_page_by_page(posted, site_factory, services_for, kiosk_app,
                                                               flow_drive):
    site = site_factory(posted)
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from _open_notices(d, app)
        screen = app.screen("notices")
        first = screen.ids.notice_list.items[0]
        assert first.text == "【重要】明天停水" and first.style == "notice"
        yield from d.tap(d.find(text="【重要】明天停水"))
        assert screen.step == "detail"
        assert d.find_all(id="notice_title")[0].text == "【重要】明天停水"
        page1 = d.find_all(id="notice_body")[0].text
        assert page1 and LONG_BODY.startswith(page1)
        yield from d.tap(d.find(id="body_next"))
        page2 = d.find_all(id="notice_body")[0].text
        assert page2 and page2 != page1 and page2 in LONG_BODY
        yield from d.tap(d.find(id="read_button"))             # speech is off here; the words stay shown
        assert screen.step == "detail"
        yield from d.tap(d.find(id="list_button"))
        assert screen.step == "list"

    flow_drive(app, scenario)


def test_many_notices_page_with_taps_in_large_text(posted, site_factory, services_for, kiosk_app, flow_drive):
    site = site_factory(posted)
    cfg = site.write_config()
    site.start_agent()
    app = kiosk_app(cfg, services=services_for(cfg))

    def scenario(d):
        yield from d.tap(d.find(id="large_text"))
        yield from _open_notices(d, app)
        grid = app.screen("notices").ids.notice_list
        assert grid.pages > 1, "thirteen notices in 大字 mode need more than one page"
        shown_first = set(screen_texts(d))
        yield from d.tap(d.find(id="next_page"))
        yield from d.frames(2)
        shown_next = set(screen_texts(d))
        new = sorted(t for t in shown_next - shown_first if t in TITLES)
        assert new, "the next page shows other notices"
        yield from d.tap(d.find(text=new[0]))
        assert d.find_all(id="notice_body")[0].text == f"{new[0]}的内容。"

    flow_drive(app, scenario)
