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
