"""Blood pressure: picture steps for the cuff -> measure -> the reading in huge digits with its band.

The band (kiosk/screens/health_bands.py, Chinese hypertension guideline) is
shown in words, colour and a symbol with one sentence of advice. A reading of
180/110 or more offers an urgent help request in one tap. Nothing leaves the
kiosk without the resident's consent on screen (把结果发给物业/家人医生？);
only then is the reading submitted, with health_consent=True. Readings are
never logged.
"""

from __future__ import annotations

import time
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty

from kiosk.screens import repair_request
from kiosk.screens.health_bands import BloodPressureBand, ImplausibleReading, classify
from kiosk.screens.repair_request import Draft, staff_text
from kiosk.screens.steps import StepScreen, while_running

EXPECTED_MEASURE_S = 40.0   # how long a cuff usually takes: paces the progress bar only
PROGRESS_TICK_S = 0.5
BAND_BADGE = {"ok": "ok", "warn": "warn", "danger": "danger"}
_FAILURES = {"Offline": "health.offline", "Unavailable": "health.offline", "Timeout": "health.timeout"}


def failure_key(err: BaseException) -> str:
    """Strings key for a failed measurement."""
    if getattr(err, "code", None) == "offline":
        return "health.offline"
    for cls in type(err).__mro__:
        if cls.__name__ in _FAILURES:
            return _FAILURES[cls.__name__]
    return "health.failed"


def share_draft(reading: Any, band: BloodPressureBand) -> tuple[Draft, dict[str, Any]]:
    """The request (and its health part) sent when the resident agrees to share a reading."""
    urgency = "normal" if band.code in ("grade1", "grade2", "grade3") else "low"
    draft = Draft(channel="touch", category="medical", urgency=urgency,
                  summary=staff_text("health.share_summary"), tags=("blood_pressure", band.code))
    return draft, health_part(reading)


def health_part(reading: Any) -> dict[str, Any]:
    return {"systolic": int(reading.systolic), "diastolic": int(reading.diastolic),
            "pulse": int(reading.pulse), "irregular": bool(reading.irregular)}


class _DemoReading:
    systolic, diastolic, pulse, irregular = 152, 94, 76, False


class HealthScreen(StepScreen):
    """Cuff steps -> measuring -> result (band, advice, consent, urgent help)."""

    name = "health"
    title_key = "health.title"
    step_instructions = {"steps": "health.instr_steps", "measuring": "health.instr_measuring",
                         "result": "health.instr_result", "failed": "health.instr_failed"}
    step = OptionProperty("steps", options=("steps", "measuring", "result", "failed"))
    station_reason = StringProperty("")
    progress = NumericProperty(0.0)
    systolic = StringProperty("")
    diastolic = StringProperty("")
    pulse = StringProperty("")
    irregular = BooleanProperty(False)
    band_style = StringProperty("ok")
    band_text = StringProperty("")
    advice = StringProperty("")
    low = BooleanProperty(False)
    urgent = BooleanProperty(False)
    consent = OptionProperty("ask", options=("ask", "sending", "sent", "declined", "failed"))
    urgent_state = OptionProperty("none", options=("none", "sending", "sent", "failed"))
    urgent_ticket = StringProperty("")
    message = StringProperty("")

    def __init__(self, **kw) -> None:
        repair_request.load()   # Badge
        super().__init__(**kw)
        self._reading: Any = None
        self._band: BloodPressureBand | None = None
        self._progress_event = None
        self._started = 0.0
        self._message_key = ""
        self._measuring_id = 0
        self.set_instructions("health.instr_steps")

    def on_pre_enter(self, *_args) -> None:
        self._check_station()

    def stop_timers(self) -> None:
        self._stop_progress()

    def reset(self) -> None:
        self._stop_progress()
        self._measuring_id += 1          # a reading arriving after reset is dropped
        self._reading = None
        self._band = None
        self.systolic = self.diastolic = self.pulse = ""
        self.band_text = self.advice = self.message = self.urgent_ticket = ""
        self._message_key = ""
        self.irregular = self.low = self.urgent = False
        self.consent = "ask"
        self.urgent_state = "none"
        self.progress = 0.0
        self.step = "steps"

    def on_language(self) -> None:
        self._check_station()
        if self._band is not None:
            self._show_band()
        if self._message_key:
            self.message = self.t(self._message_key)

    def show_demo_state(self) -> None:
        self.reset()
        self._measured(_DemoReading(), speak=False)

    # -- measuring -------------------------------------------------------------------
    def start(self) -> None:
        """开始测量."""
        if self.station_reason or self.step == "measuring":
            return
        self.step = "measuring"
        self.progress = 0.0
        self._started = time.monotonic()
        self._progress_event = Clock.schedule_interval(self._advance, PROGRESS_TICK_S)
        self._measuring_id += 1
        token = self._measuring_id
        self.services.devices.measure(
            on_done=lambda reading: token == self._measuring_id and self._measured(reading),
            on_error=lambda err: token == self._measuring_id and self._failed(err),
        )

    @while_running
    def _advance(self, _dt) -> None:
        elapsed = time.monotonic() - self._started
        self.progress = min(0.95, elapsed / EXPECTED_MEASURE_S)

    @while_running
    def _measured(self, reading: Any, speak: bool = True) -> None:
        self._stop_progress()
        try:
            band = classify(int(reading.systolic), int(reading.diastolic))
        except (ImplausibleReading, TypeError, ValueError):
            self._failed(ImplausibleReading("implausible"))
            return
        self._reading = reading
        self._band = band
        self.progress = 1.0
        self.systolic = str(int(reading.systolic))
        self.diastolic = str(int(reading.diastolic))
        self.pulse = self.t("health.pulse", pulse=int(reading.pulse))
        self.irregular = bool(reading.irregular)
        self.urgent = band.urgent
        self.low = band.low
        self._show_band()
        self.step = "result"
        self.action_finished()
        if speak:
            self.services.voice.say(f"{self.systolic}/{self.diastolic}，{self.band_text}。{self.advice}")

    def _show_band(self) -> None:
        band = self._band
        assert band is not None
        self.band_style = BAND_BADGE[band.role]
        self.band_text = self.t(band.name_key) + (f"，{self.t('health.low_note')}" if band.low else "")
        self.advice = self.t(band.advice_key)

    @while_running
    def _failed(self, err: BaseException) -> None:
        self._stop_progress()
        self._message_key = failure_key(err)
        self.message = self.t(self._message_key)
        self.step = "failed"

    def again(self) -> None:
        """再测一次: back to the cuff steps, the last reading forgotten."""
        self.reset()
        self._check_station()

    # -- consent and urgent help -----------------------------------------------------------
    def answer_consent(self, agree: bool) -> None:
        """同意 / 不同意 to sending the reading to the office / family doctor."""
        if self.consent != "ask" or self._reading is None or self._band is None:
            return
        if not agree:
            self.consent = "declined"
            return
        self.consent = "sending"
        draft, health = share_draft(self._reading, self._band)
        body = {**draft.body(), "health": health}
        self.services.requests.submit(body, on_done=while_running(lambda _e: setattr(self, "consent", "sent")),
                                      on_error=while_running(lambda _e: setattr(self, "consent", "failed")),
                                      health_consent=True)

    def urgent_help(self) -> None:
        """马上求助 (offered for >= 180/110): an urgent request in one tap.

        The reading goes with it only if the resident already agreed to share it.
        """
        if self.urgent_state in ("sending", "sent"):
            return
        self.urgent_state = "sending"
        shared = self.consent in ("sending", "sent")
        body = Draft(channel="touch", category="medical", urgency="urgent",
                     summary=staff_text("health.urgent_summary"), location=staff_text("emergency.location"),
                     tags=("blood_pressure", "urgent_help")).body()
        if shared and self._reading is not None:
            body["health"] = health_part(self._reading)

        @while_running
        def done(enqueued: Any) -> None:
            self.urgent_ticket = str(enqueued.local_ticket)
            self.urgent_state = "sent"
            self.services.voice.say(self.t("health.urgent_sent"))

        self.services.requests.submit(body, on_done=done, on_error=while_running(lambda _e: setattr(self, "urgent_state", "failed")),
                                      health_consent=shared)

    # -- helpers -------------------------------------------------------------------------
    def _check_station(self) -> None:
        self.station_reason = "" if self.services.devices.available("health") else self.t("health.offline")

    def _stop_progress(self) -> None:
        if self._progress_event is not None:
            self._progress_event.cancel()
            self._progress_event = None
