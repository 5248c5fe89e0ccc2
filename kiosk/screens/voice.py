"""Voice request: press the microphone, speak, press again; the words appear as they are
recognised; then the same confirmation card as touch repair, and the ticket.

- high confidence: the confirmation card straight away;
- medium: 您是说……吗？ with the two likely readings as big buttons;
- low: category 其他 with the transcript kept for staff.
Everything read aloud (services.voice.say) is also shown on screen. When
voice cannot be used the screen says why and offers 我要报修 (touch) instead.
Transcripts are never logged.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import NumericProperty, OptionProperty, StringProperty

from kiosk.screens import repair_request
from kiosk.screens.repair_catalog import CATEGORIES
from kiosk.screens.repair_request import MAX_SUMMARY, Draft, RequestFlow
from kiosk.screens.steps import StepScreen, while_running

STEPS = ("unavailable", "loading", "idle", "listening", "thinking", "choose", "confirm", "room", "phone",
         "sending", "ticket")
_INSTRUCTIONS = {"unavailable": "voice.instr_unavailable", "loading": "voice.loading", "idle": "voice.instr_idle",
                 "listening": "voice.instr_listening", "thinking": "voice.instr_thinking",
                 "choose": "voice.instr_choose", "confirm": "voice.instr_confirm", "room": "voice.instr_room",
                 "phone": "request.instr_phone",
                 "sending": "request.sending", "ticket": "voice.instr_done"}
_PAGES = {"idle": "mic", "listening": "mic", "thinking": "mic"}  # steps sharing one page
STATUS_POLL_S = 0.5
URGENCIES = ("urgent", "high", "normal", "low")


def unavailable_key(reason: str | None) -> str:
    """Plain words for why voice cannot be used, from VoiceStatus.reason (technical, English)."""
    text = (reason or "").lower()
    if "model" in text:
        return "voice.unavailable_no_model"
    if any(word in text for word in ("microphone", "portaudio", "sound", "audio device", "input device")):
        return "voice.unavailable_no_mic"
    return "voice.unavailable_other"


def draft_from_intent(intent: Any, transcript: str) -> Draft:
    """The request a recognised intent stands for; low confidence becomes 其他 with the words kept."""
    tier = getattr(intent, "tier", "low")
    category = getattr(intent, "category", "other") if tier != "low" else "other"
    if category not in CATEGORIES:
        category = "other"
    urgency = getattr(intent, "urgency", "normal")
    if urgency not in URGENCIES:
        urgency = "normal"
    summary = (getattr(intent, "summary", "") or "") if tier != "low" else ""
    summary = (summary or transcript).strip()[:MAX_SUMMARY] or transcript[:MAX_SUMMARY]
    tags = tuple(t for t in (getattr(intent, "tags", ()) or ()) if isinstance(t, str) and 0 < len(t) <= 32)[:10]
    location = getattr(intent, "location", None) or None
    return Draft(channel="voice", category=category, urgency=urgency, summary=summary,
                 transcript=transcript[:2000] or None, location=location, tags=tags)


class VoiceScreen(RequestFlow, StepScreen):
    """Microphone -> partial words -> intent -> confirm (or choose) -> optional room -> ticket."""

    name = "voice"
    title_key = "voice.title"
    step_instructions = _INSTRUCTIONS
    step_pages = _PAGES
    step = OptionProperty("idle", options=STEPS)
    heard = StringProperty("")          # the words as recognised so far
    level = NumericProperty(0.0)        # microphone level 0..1 for the meter
    unavailable_reason = StringProperty("")
    note = StringProperty("")           # e.g. "没有听清，请再说一次" or the low-confidence note
    choice_a = StringProperty("")
    choice_b = StringProperty("")
    source: str | None = None           # None = the configured microphone; "file:///x.wav" (demo, tests)

    def __init__(self, **kw) -> None:
        repair_request.load()
        super().__init__(**kw)
        self._session: Any = None
        self._choices: list[Draft] = []
        self._poll = None
        self._note_key = ""
        self.set_instructions("voice.instr_idle")

    def on_params(self, source: str | None = None, **_params) -> None:
        """go("voice", source="file:///x.wav") listens to a file instead of the microphone."""
        self.source = source
        if self.step in ("loading", "unavailable"):
            self._check_status()

    def on_pre_enter(self, *_args) -> None:
        if self.step in ("idle", "loading", "unavailable"):
            self._check_status()

    def stop_timers(self) -> None:
        self._stop_poll()
        self._cancel_session()

    def reset(self) -> None:
        self.stop_timers()
        self.forget_request()
        self._choices = []
        self.heard = self.note = self.choice_a = self.choice_b = ""
        self._note_key = ""
        self.level = 0.0
        self.source = None
        self.step = "idle"

    def on_language(self) -> None:
        if self.step == "unavailable":
            self._check_status()
        if self._note_key:
            self.note = self.t(self._note_key)
        self._describe()

    def show_demo_state(self) -> None:
        self.reset()
        self.heard = "我家厨房的灯坏了"
        self.show_draft(Draft(channel="voice", category="repair", urgency="normal", summary="厨房灯不亮",
                              transcript=self.heard, location="厨房"), speak=False)

    # -- availability ------------------------------------------------------------------
    @while_running
    def _check_status(self) -> None:
        status = self.services.voice.status()
        if status.state == "ready" or (self.source and status.model):   # a file needs no microphone
            self._stop_poll()
            if self.step in ("loading", "unavailable"):
                self.step = "idle"
            return
        if status.state == "loading":
            self.step = "loading"
            if self._poll is None:
                self._poll = Clock.schedule_interval(lambda _dt: self._check_status(), STATUS_POLL_S)
            return
        self._stop_poll()
        self.unavailable_reason = self.t(unavailable_key(status.reason))
        self.step = "unavailable"

    def use_touch(self) -> None:
        """我要报修 instead of speaking."""
        self.go("repair")

    # -- listening -----------------------------------------------------------------------
    def press_mic(self) -> None:
        """The big microphone button: first press starts, second press finishes."""
        if self.step == "idle":
            self._start_listening()
        elif self.step == "listening":
            self.step = "thinking"
            if self._session is not None:
                self._session.stop()

    def _start_listening(self) -> None:
        self.heard = ""
        self._set_note("")
        self.level = 0.0
        self.step = "listening"
        self._session = self.services.voice.listen(
            self._on_partial, self._on_final, self._on_error, on_level=self._on_level, source=self.source)

    @while_running
    def _on_partial(self, text: str) -> None:
        if self.step in ("listening", "thinking"):
            self.heard = text

    @while_running
    def _on_level(self, level: float) -> None:
        if self.step == "listening":
            self.level = max(0.0, min(1.0, float(level)))

    @while_running
    def _on_error(self, reason: str) -> None:
        if self.step not in ("listening", "thinking"):
            return
        self._session = None
        self.level = 0.0
        status = self.services.voice.status()
        if status.state != "ready" and not (self.source and status.model):
            self._check_status()
            return
        self._set_note("voice.listen_failed")
        self.step = "idle"

    @while_running
    def _on_final(self, text: str) -> None:
        if self.step not in ("listening", "thinking"):
            return
        self._session = None
        self.level = 0.0
        text = (text or "").strip()
        self.heard = text
        if not text:
            self._set_note("voice.nothing_heard")
            self.step = "idle"
            return
        self.understand(text)

    def understand(self, text: str) -> None:
        """Parse a transcript and show the confirmation (or the two likely readings)."""
        self.heard = text
        try:
            intent = self.services.voice.parse(text)
        except Exception:  # no intent parser: keep the words, staff read them
            intent = None
        tier = getattr(intent, "tier", "low") if intent is not None else "low"
        if tier == "medium":
            alternatives = [a for a in (getattr(intent, "alternatives", None) or []) if a is not None]
            first = draft_from_intent(intent, text)
            second = next((draft_from_intent(a, text) for a in alternatives
                           if getattr(a, "category", None) != first.category
                           or getattr(a, "summary", None) != getattr(intent, "summary", None)), None)
            if second is not None:
                self._offer(first, second)
                return
            self.show_draft(first)
            return
        draft = draft_from_intent(intent, text)
        self._set_note("voice.low_confidence" if tier != "high" else "")
        self.show_draft(draft)

    def _offer(self, first: Draft, second: Draft) -> None:
        self._choices = [first, second]
        self.choice_a = first.summary
        self.choice_b = second.summary
        self.step = "choose"
        self.spoken = f"{self.t('voice.did_you_mean')} {first.summary} / {second.summary}"
        self.services.voice.say(self.spoken)

    def choose(self, index: int) -> None:
        """One of the two big 您是说……吗？ buttons."""
        if self.step == "choose" and 0 <= index < len(self._choices):
            self.show_draft(self._choices[index])

    def retry(self) -> None:
        """不对，重说: forget what was heard and listen again."""
        self._cancel_session()
        self.forget_request()
        self._choices = []
        self.heard = ""
        self._set_note("")
        self.step = "idle"

    # -- helpers -------------------------------------------------------------------------
    def _set_note(self, key: str) -> None:
        self._note_key = key
        self.note = self.t(key) if key else ""

    def _cancel_session(self) -> None:
        if self._session is not None:
            try:
                self._session.cancel()
            except Exception:  # a session that already ended: nothing to cancel
                pass
            self._session = None

    def _stop_poll(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
