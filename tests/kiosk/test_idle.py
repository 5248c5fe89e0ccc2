"""Idle: 还需要更多时间吗？ after ui.idle_timeout_s without a touch (ui.idle_after_action_s after a
finished action), then home with everything typed forgotten. Time comes from a ManualClock."""

from __future__ import annotations

from tests.kiosk.conftest import ManualClock


def test_idle_asks_then_goes_home_and_forgets_typed_digits(kiosk_app, drive):
    clock = ManualClock()
    app = kiosk_app(now=clock)

    def scenario(d):
        yield from d.tap(d.find(id="btn_technician"))
        for digit in "24":
            yield from d.tap(d.find(text=digit))
        keypad = app.screen("technician").ids.keypad
        assert keypad.value == "24"
        clock.advance(59)
        yield from d.frames(40)  # idle ticks every 0.5 s of real time
        assert app.prompt is None and app.current == "technician"
        clock.advance(2)
        yield from d.wait(lambda: app.prompt is not None, what="the idle prompt")
        assert d.find(text="还需要更多时间吗？")
        # 需要，继续: the prompt closes and nothing is lost
        yield from d.tap(d.find(id="more"))
        yield from d.wait(lambda: app.prompt is None, what="prompt closed")
        assert app.current == "technician" and keypad.value == "24"
        # no answer: home, and the digits are gone
        clock.advance(61)
        yield from d.wait(lambda: app.prompt is not None, what="the idle prompt again")
        clock.advance(16)
        yield from d.wait(lambda: app.current == "home", what="home after the prompt ran out")
        assert app.prompt is None and keypad.value == ""

    drive(app, scenario)


def test_after_a_finished_action_the_short_timeout_applies(kiosk_app, drive):
    clock = ManualClock()
    app = kiosk_app(now=clock, language="zh")

    def scenario(d):
        yield from d.tap(d.find(id="language"))  # a resident switched to English
        assert app.lang == "en"
        yield from d.tap(d.find(id="btn_technician"))
        app.screen("technician").action_finished()
        clock.advance(16)
        yield from d.wait(lambda: app.prompt is not None, what="prompt after 15 s")
        assert d.find(text="Do you need more time?")
        yield from d.tap(d.find(id="home"))  # 回到首页 on the prompt
        yield from d.wait(lambda: app.current == "home" and app.prompt is None, what="home")
        # idle again on home: back to the configured language
        clock.advance(61)
        yield from d.wait(lambda: app.lang == "zh", what="language restored to zh")

    drive(app, scenario)
