"""Home screen driven by taps: buttons, switches, unavailability shown in words."""

from __future__ import annotations


def test_home_switches_language_and_large_text(kiosk_app, drive):
    app = kiosk_app()

    def scenario(d):
        home = app.screen("home")
        assert d.find(text="说一说")
        body_before = app.theme.font_body
        yield from d.tap(d.find(id="large_text"))
        assert app.theme.large_text and app.theme.font_body >= 1.5 * body_before - 0.01
        assert d.find(id="large_text").text == "标准字"
        yield from d.tap(d.find(id="language"))
        assert app.lang == "en"
        yield from d.frames(2)
        assert d.find(id="btn_voice").text == "Speak"
        assert home.instructions.startswith("Speak, or tap")
        yield from d.tap(d.find(id="language"))
        assert app.lang == "zh" and d.find(id="btn_voice").text == "说一说"

    drive(app, scenario)


def test_home_says_why_buttons_cannot_work_when_broker_and_voice_are_missing(kiosk_app, drive):
    """No broker on the configured port, no voice model: the app starts and says so in words."""
    app = kiosk_app()

    def scenario(d):
        home = app.screen("home")
        parcel = d.find(id="btn_parcel")
        yield from d.wait(lambda: parcel.reason == "楼内设备暂时连不上，正在重新连接。", what="parcel reason")
        assert d.find(id="btn_health").reason == "楼内设备暂时连不上，正在重新连接。"
        assert d.find(id="btn_emergency").reason == ""  # emergency never depends on anything
        yield from d.wait(lambda: "语音" in home.problems_text, what="voice in the notice")
        assert "楼内设备暂时连不上" in home.problems_text
        assert parcel.style == "disabled"
        yield from d.tap(parcel)
        assert app.current == "home"  # the tap does nothing; the reason is already on the button
        yield from d.tap(d.find(id="btn_repair"))
        yield from d.wait(lambda: app.current == "repair", what="repair screen (needs only the outbox)")
        yield from d.tap(d.find(id="back"))
        yield from d.wait(lambda: app.current == "home", what="back home")

    drive(app, scenario)


def test_home_shows_the_current_high_priority_notice_from_the_outbox(kiosk_app, kiosk_config, drive):
    from sync.outbox import Outbox
    from sync.records import Notice

    outbox = Outbox.open(kiosk_config.sync)
    outbox.apply_updates([], [
        Notice("n1", "小区活动", "周日下午有义诊", "2020-01-01T00:00:00Z", None, "normal"),
        Notice("n2", "停水通知", "本周六 9:00-12:00 停水", "2020-01-01T00:00:00Z", None, "high"),
        Notice("n3", "旧通知", "已经过期", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "high"),
    ], "c1")
    outbox.close()
    app = kiosk_app(cfg=kiosk_config)

    def scenario(d):
        home = app.screen("home")
        yield from d.wait(lambda: home.notice_text, what="a notice on home")
        assert home.notice_text == "停水通知：本周六 9:00-12:00 停水"
        assert d.find(contains="停水通知")  # on screen, not only in a property

    drive(app, scenario)
