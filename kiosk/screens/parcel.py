"""Parcel pickup: six-digit code on a big keypad -> the locker opens -> the compartment in huge type.

Failures are said in plain words (wrong code, locker offline, jammed, no
answer) and repeated wrong codes lock pick-up for a while; the screen says
how many minutes are left. The code is forgotten as soon as it is sent.
"""

from __future__ import annotations

import math

from kivy.clock import Clock
from kivy.properties import BooleanProperty, OptionProperty, StringProperty

from kiosk.screens.steps import StepScreen, while_running

CODE_LENGTH = 6
LOCKOUT_REFRESH_S = 5.0
_BY_CODE = {"bad_code": "parcel.wrong_code", "jammed": "parcel.jammed", "busy": "parcel.busy",
            "offline": "parcel.offline", "expired": "parcel.timeout", "not_found": "parcel.wrong_code"}
_BY_CLASS = {"WrongCode": "parcel.wrong_code", "InvalidCode": "parcel.need_six",
             "Offline": "parcel.offline", "Timeout": "parcel.timeout", "Unavailable": "parcel.offline"}


def failure_message(err: BaseException) -> str:
    """Strings key for a pick-up failure (PickupLocked is handled by the screen: it needs minutes)."""
    code = getattr(err, "code", None)
    if isinstance(code, str) and code in _BY_CODE:
        return _BY_CODE[code]
    for cls in type(err).__mro__:
        if cls.__name__ in _BY_CLASS:
            return _BY_CLASS[cls.__name__]
    return "parcel.failed"


def code_display(code: str) -> str:
    """What the code box shows: typed digits, then a dash per missing digit ("12 3_ _ _")."""
    return " ".join(code.ljust(CODE_LENGTH, "_"))


def lockout_minutes(seconds: float) -> int:
    """Whole minutes to show for a lock-out (never 0 while it lasts)."""
    return max(1, math.ceil(seconds / 60))


class ParcelScreen(StepScreen):
    """Six-digit keypad, open, compartment; plain-language failures and the lock-out."""

    name = "parcel"
    title_key = "parcel.title"
    step = OptionProperty("enter", options=("enter", "opening", "opened", "failed", "locked"))
    code = StringProperty("")
    compartment = StringProperty("")
    message = StringProperty("")
    locker_reason = StringProperty("")  # why the locker cannot be used now ("" when it can)
    locked = BooleanProperty(False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._lock_event = None
        self._message_key: tuple[str, dict] | None = None
        self.set_instructions("parcel.instr_enter")

    # -- lifecycle -------------------------------------------------------------------
    def on_pre_enter(self, *_args) -> None:
        self._check_locker()
        self._check_lockout()

    def stop_timers(self) -> None:
        self._stop_lock_timer()

    def reset(self) -> None:
        self._stop_lock_timer()
        self.code = ""
        self.compartment = ""
        self._set_message(None)
        self.locked = False
        self.step = "enter"
        if "keypad" in self.ids:
            self.ids.keypad.clear()
        self.set_instructions("parcel.instr_enter")

    def on_language(self) -> None:
        self._set_message(self._message_key)
        self._check_locker()

    def show_demo_state(self) -> None:
        self.reset()
        self._opened({"locker": "locker-1", "compartment": "A12"}, speak=False)

    # -- actions (kv) ----------------------------------------------------------------
    def on_code(self, _inst, value: str) -> None:
        if self.step == "enter" and self._message_key == ("parcel.need_six", {}) and len(value) == CODE_LENGTH:
            self._set_message(None)

    def open_locker(self) -> None:
        """The 开柜取件 button."""
        if self.locker_reason or self.step == "opening":
            return
        if self._check_lockout():
            return
        if len(self.code) != CODE_LENGTH:
            self._set_message(("parcel.need_six", {}))
            return
        code = self.code
        self.code = ""
        self.ids.keypad.clear()
        self.step = "opening"
        self._set_message(None)
        self.set_instructions("parcel.instr_opening")
        self.services.devices.pickup(code, on_done=self._opened, on_error=self._failed)

    def try_again(self) -> None:
        """重新输入 after a failure."""
        if self._check_lockout():
            return
        self.step = "enter"
        self._set_message(None)
        self.set_instructions("parcel.instr_enter")

    # -- results -----------------------------------------------------------------------
    @while_running
    def _opened(self, result: dict, speak: bool = True) -> None:
        self.compartment = str(result.get("compartment", ""))
        self.step = "opened"
        self.set_instructions("parcel.instr_opened")
        self.action_finished()
        if speak:
            self.services.voice.say(f"{self.t('parcel.opened')}，{self.compartment}")

    @while_running
    def _failed(self, err: BaseException) -> None:
        if type(err).__name__ == "PickupLocked":
            self._show_locked(float(getattr(err, "retry_after_s", 60)))
            return
        self.step = "failed"
        self._set_message((failure_message(err), {}))
        self.set_instructions("parcel.instr_failed")
        self.services.voice.say(self.message)

    # -- lock-out ------------------------------------------------------------------------
    @while_running
    def _check_lockout(self) -> bool:
        remaining = self.services.devices.lockout_remaining()
        if remaining > 0:
            self._show_locked(remaining)
            return True
        self._stop_lock_timer()
        if self.locked:
            self.locked = False
            self.step = "enter"
            self._set_message(None)
            self.set_instructions("parcel.instr_enter")
        return False

    def _show_locked(self, seconds: float) -> None:
        self.locked = True
        self.step = "locked"
        self._set_message(("parcel.locked", {"minutes": lockout_minutes(seconds)}))
        self.set_instructions("parcel.instr_failed")
        if self._lock_event is None:
            self._lock_event = Clock.schedule_interval(lambda _dt: self._check_lockout(), LOCKOUT_REFRESH_S)

    def _stop_lock_timer(self) -> None:
        if self._lock_event is not None:
            self._lock_event.cancel()
            self._lock_event = None

    # -- helpers -------------------------------------------------------------------------
    def _check_locker(self) -> None:
        self.locker_reason = "" if self.services.devices.available("locker") else self.t("parcel.unavailable")

    def _set_message(self, key: tuple[str, dict] | None) -> None:
        self._message_key = key
        self.message = self.t(key[0], **key[1]) if key else ""
