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


def test_home_notices_a_broker_drop_and_recovery_without_waiting_for_the_state_refresh(mosquitto, kiosk_app, drive,
                                                                                       tmp_path):
    """The broker goes away and comes back: Home's notice and the parcel button follow the link's
    connection events. The periodic state refresh is set to an hour, so it cannot be what notices,
    and no device is there whose last will could tell (a pulled cable sends none)."""
    from kiosk.services import Services
    from tests.kiosk.conftest import make_config

    cfg = make_config(tmp_path / "state", broker_port=mosquitto.port)
    app = kiosk_app(cfg=cfg, services=Services(cfg, voice_factory=None, state_interval_s=3600))
    broker_down = "楼内设备暂时连不上，正在重新连接。"

    def scenario(d):
        home = app.screen("home")
        parcel = d.find(id="btn_parcel")
        no_locker = app.tr("common.unavail_locker")
        yield from d.wait(lambda: parcel.reason == no_locker and broker_down not in home.problems_text,
                          what="connected: no locker bank, no broker notice")
        mosquitto.stop()
        yield from d.wait(lambda: broker_down in home.problems_text and parcel.reason == broker_down,
                          what="the broker drop on home")
        assert parcel.style == "disabled" and d.find(id="btn_emergency").reason == ""
        mosquitto.start()
        yield from d.wait(lambda: parcel.reason == no_locker and broker_down not in home.problems_text,
                          what="recovery on home")

    drive(app, scenario)
