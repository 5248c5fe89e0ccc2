"""Emergency: one tap from home starts a 5-second countdown with a big 取消, then an urgent request.

After the countdown an urgent medical request goes into the outbox (accepted
even when the central service is down, and the screen says so), the screen
shows 已通知物业 and the emergency numbers 120 / 110 / 119 in very large type.

The countdown never asks for anything. Once the request is saved, the
notified screen offers 留个电话方便回电: the number typed there (shown only
masked) goes to the office as a second urgent request naming the first one's
ticket (the contract has no way to change a request already sent).
"""

from __future__ import annotations

from dataclasses import replace

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty

from kiosk.mask import mask_phone
from kiosk.screens import repair_request
from kiosk.screens.repair_request import Draft, staff_text
from kiosk.screens.steps import StepScreen, while_running

COUNTDOWN_S = 5


def emergency_draft() -> Draft:
    """The urgent request the emergency button sends (no personal data: the lobby, no room)."""
    return Draft(channel="touch", category="medical", urgency="urgent",
                 summary=staff_text("emergency.summary"), location=staff_text("emergency.location"), tags=("emergency_button",))


def callback_draft(ticket: str, phone: str) -> Draft:
    """The follow-up request carrying the call-back number for the emergency request `ticket`."""
    return replace(emergency_draft(), summary=staff_text("emergency.callback_summary", ticket=ticket), phone=phone,
                   tags=("emergency_button", "callback_number"))


class EmergencyScreen(StepScreen):
    """Countdown with cancel -> urgent request -> 已通知物业 and 120 / 110 / 119."""

    name = "emergency"
    title_key = "emergency.title"
    step = OptionProperty("countdown", options=("countdown", "sending", "notified", "cancelled", "phone"))
    seconds = NumericProperty(COUNTDOWN_S)
    ticket = StringProperty("")
    offline = BooleanProperty(False)   # saved in the outbox, central not reachable now
    failed = BooleanProperty(False)    # could not even be saved: call the numbers
    phone_state = OptionProperty("none", options=("none", "sending", "sent", "failed"))
    phone_masked = StringProperty("")  # the call-back number, masked (the digits are not kept)
    countdown_s = COUNTDOWN_S

    def __init__(self, **kw) -> None:
        repair_request.load()   # PhoneEntry
        super().__init__(**kw)
        self._tick = None
        self._submitted = False

    # -- lifecycle -------------------------------------------------------------------
    def on_pre_enter(self, *_args) -> None:
        if self.step in ("countdown", "cancelled") and not self._submitted:
            self.start_countdown()

    def stop_timers(self) -> None:
        self._stop_tick()

    def on_leave(self, *_args) -> None:
        super().on_leave()
        if self.step == "countdown":   # leaving during the countdown cancels it
            self.reset()

    def reset(self) -> None:
        self._stop_tick()
        self._submitted = False
        self.seconds = self.countdown_s
        self.ticket = ""
        self.offline = False
        self.failed = False
        self.phone_state = "none"
        self.phone_masked = ""
        if "phone_entry" in self.ids:
            self.ids.phone_entry.clear()
        self.step = "countdown"
        self.set_instructions("emergency.instr_countdown")

    def show_demo_state(self) -> None:
        self.reset()
        self._notified_state(ticket="", offline=False)

    # -- actions ---------------------------------------------------------------------
    def start_countdown(self) -> None:
        self.reset()
        self._tick = Clock.schedule_interval(self._on_tick, 1.0)
        self.services.voice.say(self.t("emergency.countdown", seconds=self.seconds))

    def cancel(self) -> None:
        """The big 取消 button: nothing is sent."""
        if self.step != "countdown":
            return
        self._stop_tick()
        self.step = "cancelled"
        self.set_instructions("emergency.instr_cancelled")
        self.action_finished()

    @while_running
    def _on_tick(self, _dt) -> None:
        self.seconds -= 1
        if self.seconds <= 0:
            self._stop_tick()
            self._submit()

    def _submit(self) -> None:
        if self._submitted:
            return
        self._submitted = True
        self.step = "sending"
        self.services.requests.submit(emergency_draft().body(), on_done=self._done, on_error=self._error)

    @while_running
    def _done(self, enqueued) -> None:
        self._notified_state(ticket=str(enqueued.local_ticket), offline=not self.services.requests.network_ok())
        self.services.voice.say(self.t("emergency.notified"))

    @while_running
    def _error(self, _err: BaseException) -> None:
        self.failed = True
        self.step = "notified"
        self.set_instructions("emergency.instr_notified")
        self.action_finished()

    def _notified_state(self, ticket: str, offline: bool) -> None:
        self.ticket = ticket
        self.offline = offline
        self.failed = False
        self.step = "notified"
        self.set_instructions("emergency.instr_notified")
        self.action_finished()

    # -- the optional call-back number -----------------------------------------------------
    def ask_phone(self) -> None:
        """留个电话方便回电 (only once the emergency request is saved)."""
        if self.step == "notified" and self.ticket and self.phone_state in ("none", "failed"):
            self.step = "phone"
            self.set_instructions("request.instr_phone")

    def phone_given(self, value: str) -> None:
        """The number (or 不留电话): sent as a follow-up urgent request naming the ticket."""
        self.step = "notified"
        self.set_instructions("emergency.instr_notified")
        if not value:
            return
        self.phone_state = "sending"
        self.phone_masked = mask_phone(value)
        self.services.requests.submit(callback_draft(self.ticket, value).body(),
                                      on_done=self._phone_done, on_error=self._phone_error)

    @while_running
    def _phone_done(self, _enqueued) -> None:
        if self.phone_state == "sending":
            self.phone_state = "sent"
            self.action_finished()

    @while_running
    def _phone_error(self, _err: BaseException) -> None:
        if self.phone_state == "sending":
            self.phone_state = "failed"

    def go_back(self) -> None:
        """返回 on the phone keypad goes back to 已通知物业."""
        if self.step == "phone":
            self.phone_given("")
        else:
            super().go_back()

    def _stop_tick(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
