"""Age-friendly rules on every registered screen, in normal and 大字 mode, in both languages,
at 1080x1920 on a 21.5-inch panel (the theme's physical density), with the real widget tree."""

from __future__ import annotations

import pytest

from kiosk.screens import SCREENS
from kiosk.services import Services
from kiosk.theme import MIN_CONTRAST, PAIRS, Theme
from tests.kiosk.a11y import check_frame, check_window, walk_steps

COMBOS = [(lang, large) for lang in ("zh", "en") for large in (False, True)]
SETTLE_FRAMES = 3


def test_every_colour_pair_has_7_to_1_contrast():
    low = {name: round(pair.contrast, 2) for name, pair in PAIRS.items() if pair.contrast < MIN_CONTRAST}
    assert low == {}


def test_theme_is_in_millimetres_of_the_configured_panel():
    theme = Theme.for_panel((1080, 1920), 21.5)
    assert theme.px_per_mm == pytest.approx(4.034, abs=0.01)  # sqrt(1080²+1920²) px / (21.5 × 25.4) mm
    assert theme.target == pytest.approx(15 * theme.px_per_mm)
    assert theme.font_body * 1.2 >= theme.mm(8)  # body line height >= 8 mm
    body = theme.font_body
    theme.large_text = True
    assert theme.font_body == pytest.approx(1.5 * body, abs=1)  # whole pixels
    small = Theme.for_panel((1080, 1920), 32)  # same pixels on a bigger panel: fewer px per mm
    assert small.target < theme.target


def test_walk_catches_what_breaks_the_rules(kiosk_app, drive):
    """The walk itself must fail on a tiny target, a cramped pair, low contrast, small and overflowing text."""
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.label import Label

    from kiosk.widgets import BigButton, SmallButton

    app = kiosk_app()

    def scenario(d):
        from kivy.core.window import Window

        bad = FloatLayout()
        tiny = SmallButton(text="x", size_hint=(None, None), size=(20, 20), pos=(10, 10), style="primary")
        tiny.height = 20
        near = SmallButton(text="y", size_hint=(None, None), pos=(34, 10), style="primary")
        grey = Label(text="灰色文字", color=(0.6, 0.6, 0.6, 1), font_size=app.theme.font_body,
                     size_hint=(None, None), size=(800, 100), pos=(10, 400))
        small = Label(text="小字", color=(0, 0, 0, 1), font_size=10, size_hint=(None, None), size=(300, 100),
                      pos=(10, 600))
        overflow = Label(text="这段文字放不进这个框里", color=(0, 0, 0, 1), font_size=app.theme.font_body,
                         size_hint=(None, None), size=(60, 30), pos=(10, 800))
        spill = BigButton(text="一二三四五六七八九十一二三四五", size_hint=(None, None), size=(200, 70),
                          pos=(10, 1000), style="primary")
        for w in (tiny, near, grey, small, overflow, spill):
            bad.add_widget(w)
        Window.add_widget(bad)
        yield from d.frames(SETTLE_FRAMES)
        near.height = 80
        near.width = 80
        yield from d.frames(2)
        problems = "\n".join(check_window(app.theme))
        Window.remove_widget(bad)
        assert "target SmallButton 'x'" in problems
        assert "mm apart" in problems
        assert "text Label '灰色文字' contrast" in problems
        assert "text Label '小字' font" in problems
        assert "text Label '这段文字放不进这个框里' does not fit" in problems
        assert "spills out of its BigButton" in problems

    drive(app, scenario)


def test_every_screen_meets_the_rules(kiosk_config, drive):
    from kiosk.app import KioskApp

    app = KioskApp(kiosk_config, services=Services.offline(kiosk_config))
    problems: list[str] = []

    def walk_current(label: str) -> None:
        screen = app.screen(app.current)
        problems.extend(f"[{label}] {p}" for p in check_window(app.theme))
        problems.extend(f"[{label}] {p}" for p in check_frame(screen, app.current))

    def scenario(d):
        for lang, large in COMBOS:
            app.lang = lang
            app.theme.large_text = large
            for name in SCREENS:
                app.go_home()
                if name != "home":
                    app.navigate(name)
                yield from d.frames(SETTLE_FRAMES)
                walk_current(f"{name} {lang}{' 大字' if large else ''} start")
                app.screen(name).show_demo_state()
                yield from d.frames(SETTLE_FRAMES)
                walk_current(f"{name} {lang}{' 大字' if large else ''} demo")
            app.navigate("repair")
            app._show_prompt()
            yield from d.frames(SETTLE_FRAMES)
            problems.extend(f"[idle prompt {lang} {large}] {p}" for p in check_window(app.theme))
            app._close_prompt()
        app.go_home()

    drive(app, scenario, timeout=300)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:80])


def _phone_steps(s):
    s.choose_category("repair")
    s.choose_problem(s.ids.problem_grid.items[0].value)
    s.choose_location(None)
    s.room_given("1201")
    s.ids.phone_entry.typed("1395724")
    s.ids.phone_entry.error_key = "request.phone_bad_landline"
    yield "phone typing, with an error"
    s.ids.phone_entry.clear()
    s.phone_given("13957246813")
    yield "confirm with phone"
    s.ticket, s.promise, s.step = "K-0042", s.t("request.promise_urgent"), "ticket"
    yield "ticket with phone"


def _emergency_phone(s):
    s.show_demo_state()
    s.ticket = "K-0042"
    yield "notified, phone offered"
    s.ask_phone()
    yield "phone"
    s.phone_state, s.phone_masked, s.step = "failed", "139****6813", "notified"
    yield "notified, phone failed"


def _technician_views(s):
    s.show_demo_state()
    s.choose_compartment("locker-1", [f"A{i:02d}" for i in range(1, 25)])
    yield "compartments"
    s.pick_compartment("A12")
    yield "confirm open"


NEW_STEPS = {"repair": _phone_steps, "emergency": _emergency_phone, "technician": _technician_views}


def test_new_steps_meet_the_rules_in_every_language_and_size(kiosk_config, drive):
    """The steps added for issue #6 (call-back phone, compartment choice) in zh/en, normal and 大字."""
    from kiosk.app import KioskApp

    app = KioskApp(kiosk_config, services=Services.offline(kiosk_config))
    problems: list[str] = []

    def scenario(d):
        yield from walk_steps(d, app, NEW_STEPS, COMBOS, problems, SETTLE_FRAMES)

    drive(app, scenario, timeout=300)
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:60])
