"""The kiosk's building blocks; their look is in widgets.kv and follows app.theme.

- `Painted`: anything that paints a background (`style` names a theme colour pair).
- `Text` / `Title` / `Huge`: labels that wrap to their width and grow to their text.
- `BigButton`: icon + words (+ an optional `reason` line when it cannot be used now).
- `NavBar`: 返回, 首页, 大字 and language switch (every screen has one).
- `Keypad`: big digit keys with 删除 and 清空, a maximum length.
- `StatusBadge`: symbol + words on a colour (never colour alone).
- `Banner`: one notice line (high-priority notice, unavailability).
- `Card`: a panel on the surface colour.

Only single taps: no swipes, long presses or gestures.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk import icons
from kiosk.theme import PAIRS

STYLES = tuple(PAIRS)
KV_FILE = Path(__file__).with_suffix(".kv")
_loaded = False


def load_widgets_kv() -> None:
    """Load widgets.kv once (the app calls this after registering the font)."""
    global _loaded
    if not _loaded:
        Builder.load_file(str(KV_FILE))
        _loaded = True


def theme():
    """The running app's theme (widgets read sizes and colours from it)."""
    return App.get_running_app().theme


class Painted(Widget):
    """A widget that paints its background with the theme pair named by `style`.

    `bg_color` is what is painted; text inside uses `fg_color`. The accessibility
    test reads both, so any screen part that paints a background must be Painted.
    """

    style = OptionProperty("base", options=STYLES)
    bg_color = ListProperty(PAIRS["base"].bg)
    fg_color = ListProperty(PAIRS["base"].fg)
    radius = NumericProperty(0)

    def on_style(self, _inst, value: str) -> None:
        self.bg_color = PAIRS[value].bg
        self.fg_color = PAIRS[value].fg


class Icon(Widget):
    """A vector icon (kiosk/icons.py) of `kind`, drawn in `color`, centred, square."""

    kind = StringProperty("")
    color = ListProperty([0, 0, 0, 1])
    max_size = NumericProperty(10_000)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._trigger = Clock.create_trigger(self._redraw, 0)
        self.bind(pos=self._trigger, size=self._trigger, kind=self._trigger, color=self._trigger,
                  max_size=self._trigger)
        self._trigger()

    def _redraw(self, *_args) -> None:
        s = min(self.width, self.height, self.max_size)
        icons.draw(self.kind, self.canvas, self.center_x - s / 2, self.center_y - s / 2, s, self.color)


class Text(Label):
    """Body text: wraps to its width, is as tall as its text, colour from its background."""


class Title(Text):
    """A screen or card title."""


class Huge(Text):
    """Very large digits or words: ticket numbers, compartments, readings."""


class BigButton(ButtonBehavior, Painted, BoxLayout):
    """A large button with an icon above or beside its words.

    `reason`: when set, the button cannot be used now; it is drawn disabled and
    shows the reason instead of failing after a tap (a tap does nothing).
    """

    text = StringProperty("")
    icon = StringProperty("")
    reason = StringProperty("")
    font_size = NumericProperty(0)  # 0 = theme.font_button
    horizontal = BooleanProperty(False)  # icon left of the words instead of above
    fit_width = BooleanProperty(False)  # words on one line; the kv sets the width from them
    enabled_style = StringProperty("primary")

    def __init__(self, **kw) -> None:
        if "style" in kw:
            kw.setdefault("enabled_style", kw["style"])
        super().__init__(**kw)
        self.bind(reason=self._restyle, enabled_style=self._restyle)
        self._restyle()

    def _restyle(self, *_args) -> None:
        self.style = "disabled" if self.reason else self.enabled_style

    def on_touch_down(self, touch):
        if self.reason and self.collide_point(*touch.pos):
            return True  # swallowed: the reason is already on the button
        return super().on_touch_down(touch)


class SmallButton(BigButton):
    """An ordinary action button (still >= 15 mm): words only, one line."""


class NavBar(Painted, BoxLayout):
    """Top bar: 返回 (unless `show_back` is False), 首页, 大字 and the language switch."""

    show_back = BooleanProperty(True)
    show_switches = BooleanProperty(False)
    screen = ObjectProperty(None, allownone=True)

    def on_kv_post(self, _base_widget) -> None:
        # kv ids are weak: keep the buttons that may be taken out of the bar alive
        self._buttons = {name: self.ids[name].__self__ for name in ("back", "home", "large_text", "language")}
        self._layout()

    def on_show_back(self, *_args) -> None:
        self._layout()

    def on_show_switches(self, *_args) -> None:
        self._layout()

    def _layout(self) -> None:
        """Only the buttons that are shown are in the bar (a hidden one is not a target)."""
        buttons = getattr(self, "_buttons", None)
        if not buttons:
            return
        wanted = ["back"] if self.show_back else []
        wanted.append("home")
        if self.show_switches:
            wanted += ["large_text", "language"]
        self.clear_widgets()
        for name in wanted:
            self.add_widget(buttons[name])

    def back(self) -> None:
        if self.screen is not None:
            self.screen.go_back()

    def home(self) -> None:
        if self.screen is not None:
            self.screen.go_home()


class Keypad(GridLayout):
    """Digits 1-9, 删除, 0, 清空 on big keys; `value` holds what was typed (digits only)."""

    value = StringProperty("")
    max_length = NumericProperty(6)

    def __init__(self, **kw) -> None:
        self.register_event_type("on_full")
        super().__init__(**kw)
        app = App.get_running_app()
        self._word_keys: list[tuple[Widget, str]] = []
        for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "clear"):
            button = Factory.KeypadKey()
            if key.isdigit():
                button.text = key
            else:
                button.icon = "back" if key == "del" else "cross"
                button.horizontal = True
                button.font_size = app.theme.font_button
                self._word_keys.append((button, f"common.{'delete' if key == 'del' else 'clear'}"))
            button.bind(on_release=lambda _b, k=key: self.press(k))
            self.add_widget(button)
        app.bind(lang=self._translate)
        self._translate()

    def _translate(self, *_args) -> None:
        app = App.get_running_app()
        for button, key in self._word_keys:
            button.text = app.tr(key)

    def press(self, key: str) -> None:
        """Apply one key: a digit, "del" or "clear"."""
        if key == "del":
            self.value = self.value[:-1]
        elif key == "clear":
            self.value = ""
        elif key.isdigit() and len(self.value) < self.max_length:
            self.value += key
            if len(self.value) == self.max_length:
                self.dispatch("on_full", self.value)

    def clear(self) -> None:
        self.value = ""

    def on_full(self, value: str) -> None:
        """Fired when `max_length` digits have been typed."""


class StatusBadge(Painted, BoxLayout):
    """A status: symbol and words on a colour. `status` is one of ok, danger, warn, disabled."""

    status = OptionProperty("warn", options=("ok", "danger", "warn", "disabled"))
    text = StringProperty("")
    SYMBOLS = {"ok": "check", "danger": "cross", "warn": "question", "disabled": "question"}

    def on_status(self, _inst, value: str) -> None:
        self.style = value


class Banner(Painted, BoxLayout):
    """One notice across the screen: an icon and the words (style: notice, warn, danger)."""

    text = StringProperty("")
    icon = StringProperty("bell")


class Card(Painted, BoxLayout):
    """A panel on the surface colour holding related things."""
