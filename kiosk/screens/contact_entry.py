"""The optional contact steps of a request: the room number and a phone number to call back.

Both are typed on a big keypad and can be skipped with one big button. The
phone number is checked (a mainland mobile: 11 digits starting 13-19; a
landline: 7-8 digits, or 10-12 with the area code starting 0) and never shown
whole on screen: while typing only the last digit typed is visible (someone
standing behind the resident sees a row of dots), and after entry everything
shows it masked (kiosk.mask.mask_phone, 138****5678). Neither is ever logged.
"""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.base import load_kv

PHONE_MAX = 12
DOT = "●"


def phone_problem(digits: str) -> str | None:
    """None when `digits` is a usable phone number, else the strings key saying what is wrong."""
    if not digits.isdigit():
        return "request.phone_empty"
    if digits[0] == "1":
        if len(digits) != 11 or digits[1] not in "3456789":
            return "request.phone_bad_mobile"
        return None
    if digits[0] == "0":
        return None if 10 <= len(digits) <= 12 else "request.phone_bad_landline"
    return None if 7 <= len(digits) <= 8 else "request.phone_bad_landline"


def typing_display(digits: str) -> str:
    """What the box shows while typing: a dot per digit, only the last one typed readable,
    grouped 3-4-4 like a mobile number ("●●● ●●●● ●●●8")."""
    if not digits:
        return ""
    shown = DOT * (len(digits) - 1) + digits[-1]
    groups = [shown[:3], shown[3:7], shown[7:]]
    return " ".join(g for g in groups if g)


class KeypadEntry(BoxLayout):
    """A number typed on the kv's Keypad (id `keypad_id`), finished with 好了 or skipped.

    Fires `on_entry(value)` ("" = skipped). `check(value)` may refuse a value by
    returning a strings key, shown as `error_key` until the next key press.
    """

    value = StringProperty("")
    error_key = StringProperty("")
    keypad_id = "keypad"

    def __init__(self, **kw) -> None:
        self.register_event_type("on_entry")
        super().__init__(**kw)

    def check(self, value: str) -> str | None:
        """None to accept `value`, else the strings key of what is wrong with it."""
        return None

    def typed(self, value: str) -> None:
        self.value = value
        self.error_key = ""

    def finish(self, give: bool) -> None:
        value = self.value if give else ""
        if give:
            self.error_key = self.check(value) or ""
            if self.error_key:
                return
        self.clear()
        self.dispatch("on_entry", value)

    def clear(self) -> None:
        """Forget what was typed."""
        self.error_key = ""
        keypad = self.ids.get(self.keypad_id)
        if keypad is not None:
            keypad.clear()
        self.value = ""

    def on_entry(self, value: str) -> None:
        """The resident finished (value) or skipped ("")."""


class RoomEntry(KeypadEntry):
    """The optional room number (shown as typed: it is the resident's own door, masked later)."""

    keypad_id = "room_keypad"


class PhoneEntry(KeypadEntry):
    """The optional call-back number: only the last typed digit is readable while typing."""

    shown = StringProperty("")
    keypad_id = "phone_keypad"

    def typed(self, value: str) -> None:
        super().typed(value)
        self.shown = typing_display(value)

    def check(self, value: str) -> str | None:
        return phone_problem(value)


def load() -> None:
    """Load contact_entry.kv (repair_request.load() calls this)."""
    load_kv(__file__)
