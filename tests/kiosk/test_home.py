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
