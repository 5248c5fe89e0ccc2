"""Home: building name, date and time, the current notice, six big buttons, availability."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kivy.clock import Clock
from kivy.properties import ObjectProperty, StringProperty

from kiosk.screens.base import KioskScreen

# Which availability field each button depends on (None: always usable).
BUTTON_NEEDS = {"voice": "voice", "repair": "requests", "parcel": "locker", "health": "health",
                "progress": "requests", "emergency": None, "notices": None}


class HomeScreen(KioskScreen):
    """The start screen. Buttons that cannot work now say why instead of failing later."""

    name = "home"
    clock_text = StringProperty("")
    notice_text = StringProperty("")
    problems_text = StringProperty("")
    availability = ObjectProperty(None, allownone=True)

    def __init__(self, **kw: Any) -> None:
        self._demo = False
        super().__init__(**kw)
        self.show_back = False
        self.show_switches = True
        self.set_instructions("home.instructions")
        self.title = self.app.cfg.building_name
        self._tick = Clock.schedule_interval(self._update_clock, 1.0)
        self._update_clock()
        self._services = self.app.services
        self._services.add_listener(self.refresh)
        self.refresh()

    def on_app_stop(self) -> None:
        self._tick.cancel()
        self._services.remove_listener(self.refresh)

    def on_language(self) -> None:
        self.title = self.app.cfg.building_name
        self._update_clock()
        self.refresh()

    def _update_clock(self, *_args) -> None:
        now = dt.datetime.now()
        weekdays = self.t("home.weekdays").split(",")
        self.clock_text = self.t("home.date_format", year=now.year, month=now.month, day=now.day,
                                 weekday=weekdays[now.weekday()] if len(weekdays) == 7 else "",
                                 hour=now.hour, minute=now.minute)

    def refresh(self, *_args) -> None:
        """Re-read availability and the high-priority notice from the services."""
        if self._demo:
            return
        services = self.app.services
        av = services.availability()
        self.availability = av
        for button, need in BUTTON_NEEDS.items():
            key = getattr(av, need) if need else None
            widget = self.ids.get(f"btn_{button}")
            if widget is not None:
                widget.reason = self.t(key) if key else ""
        self.problems_text = "\n".join(self.t(k) for k in av.problems)
        notices = [n for n in services.requests.last_notices if getattr(n, "priority", "") == "high"]
        self.notice_text = self.t("home.notice_line", title=notices[0].title, body=notices[0].body) if notices else ""

    def open(self, name: str) -> None:
        self.go(name)

    def show_demo_state(self) -> None:
        """Everything available and one high-priority notice (no services consulted)."""
        self._demo = True
        for button in BUTTON_NEEDS:
            self.ids[f"btn_{button}"].reason = ""
        self.notice_text = self.t("home.demo_notice")
        self.problems_text = ""
