"""What the voice and touch-repair screens share: the confirmation card, the ticket, the body.

Both flows end the same way: a card saying what kind of request it is, how
urgent (words, colour and a symbol), the summary, the optional place and room,
with 对，提交 / 不对; then the ticket number in very large digits with what
happens next. The request goes into the outbox through the service layer and
is accepted even when the central service cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk import i18n
from kiosk.mask import mask_phone
from kiosk.screens import contact_entry
from kiosk.screens.base import load_kv
from kiosk.screens.repair_catalog import shipped
from kiosk.screens.steps import while_running
from kiosk.widgets import Painted

URGENCY_STYLE = {"urgent": "danger", "high": "warn", "normal": "secondary", "low": "surface"}
URGENCY_ICON = {"urgent": "sos", "high": "sos", "normal": "bell", "low": "bell"}
MAX_SUMMARY = 200


@dataclass(frozen=True)
class Draft:
    """A request the resident is about to confirm (nothing personal is logged from it)."""

    channel: str                      # "voice" or "touch"
    category: str
    urgency: str
    summary: str
    transcript: str | None = None
    location: str | None = None
    room: str | None = None
    phone: str | None = None          # digits to call back; shown only masked, never logged
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:        # keeps the room and phone out of any log or traceback
        return f"Draft(channel={self.channel!r}, category={self.category!r}, urgency={self.urgency!r})"

    def with_room(self, room: str | None) -> Draft:
        return replace(self, room=room or None)

    def with_phone(self, phone: str | None) -> Draft:
        return replace(self, phone=phone or None)

    def body(self) -> dict[str, Any]:
        """The outbox body (the contract's request without id/created_at/kiosk_id/building_id)."""
        return {
            "channel": self.channel, "category": self.category, "urgency": self.urgency,
            "summary": self.summary[:MAX_SUMMARY],
            "transcript": self.transcript if self.channel == "voice" else None,
            "location": self.location, "contact": {"room": self.room, "phone": self.phone},
            "tags": list(self.tags),
        }


def staff_text(key: str, **fmt: Any) -> str:
    """A staff-facing text (summaries): always Chinese, whatever language the resident chose."""
    return i18n.catalog().t(key, "zh", **fmt)


def urgency_key(urgency: str) -> str:
    """Strings key of an urgency in words ("request.urgency_urgent")."""
    return f"request.urgency_{urgency}"


def promise_key(urgency: str, phone: bool = False) -> str:
    """Strings key of what happens next for an urgency. Urgent: a call back within 30 minutes when
    a phone number was left, else staff come within 30 minutes (there is no one to call)."""
    if urgency == "urgent":
        return "request.promise_urgent" if phone else "request.promise_urgent_visit"
    return f"request.promise_{urgency}"


class Badge(Painted, BoxLayout):
    """A symbol (icon kind) and words on a theme colour pair (never colour alone)."""

    icon = StringProperty("bell")
    text = StringProperty("")
    font_size = NumericProperty(0)   # 0 = theme.font_body


class UrgencyBadge(Badge):
    """How urgent: the urgency's colour and symbol, and its words."""

    urgency = StringProperty("normal")

    def on_urgency(self, _inst, value: str) -> None:
        self.style = URGENCY_STYLE.get(value, "surface")
        self.icon = URGENCY_ICON.get(value, "bell")


class ConfirmCard(Painted, BoxLayout):
    """The confirmation card: kind, urgency, summary, place, room. Texts are set by the screen."""

    kind = StringProperty("")
    urgency = StringProperty("normal")
    urgency_text = StringProperty("")
    summary = StringProperty("")
    location = StringProperty("")
    room = StringProperty("")
    phone = StringProperty("")       # masked


def load() -> None:
    """Load repair_request.kv and contact_entry.kv (the screens that use these widgets call this
    before building)."""
    contact_entry.load()
    load_kv(__file__)


class TicketView(BoxLayout):
    """The ticket in very large digits, what happens next, and whether it is queued offline."""

    ticket = StringProperty("")
    promise = StringProperty("")
    phone = StringProperty("")       # masked
    offline = BooleanProperty(False)

    def __init__(self, **kw) -> None:
        self.register_event_type("on_finish")
        super().__init__(**kw)

    def on_finish(self) -> None:
        """完成 was tapped."""


class RequestFlow(EventDispatcher):
    """Mixin for screens ending in confirm -> ticket (voice, repair). The screen provides `step`.

    Steps it uses: "confirm", "room", "phone", "sending", "ticket". `retry()` is the screen's.
    The phone number lives only in the draft; every property the screen shows holds it masked.
    """

    draft_kind = StringProperty("")
    draft_urgency = StringProperty("normal")
    draft_urgency_text = StringProperty("")
    draft_summary = StringProperty("")
    draft_location = StringProperty("")
    draft_room = StringProperty("")
    draft_phone = StringProperty("")     # always masked (kiosk.mask.mask_phone)
    spoken = StringProperty("")          # the last sentence read aloud, also shown
    ticket = StringProperty("")
    promise = StringProperty("")
    offline = BooleanProperty(False)
    submit_error = StringProperty("")

    _draft: Draft | None = None

    def show_draft(self, draft: Draft, speak: bool = True) -> None:
        """Fill the confirmation card from `draft` and read it back."""
        self._draft = draft
        self._describe()
        self.submit_error = ""
        self.step = "confirm"
        if speak:
            self.spoken = self.t("request.read_back", summary=self.draft_summary, urgency=self.draft_urgency_text)
            self.services.voice.say(self.spoken)

    def _describe(self) -> None:
        draft = self._draft
        if draft is None:
            return
        try:
            self.draft_kind = shipped().category(draft.category).name(self.app.lang)
        except KeyError:
            self.draft_kind = draft.category
        self.draft_urgency = draft.urgency
        self.draft_urgency_text = self.t(urgency_key(draft.urgency))
        self.draft_summary = self._resident_summary(draft)
        self.draft_location = draft.location or ""
        self.draft_room = draft.room or ""
        self.draft_phone = mask_phone(draft.phone)
        if self.ticket:
            self.promise = self.t(promise_key(draft.urgency, phone=bool(draft.phone)))

    def _resident_summary(self, draft: Draft) -> str:
        """What the card shows as the summary (screens may show a translated name instead)."""
        return draft.summary

    def ask_room(self) -> None:
        self.step = "room"

    def room_given(self, value: str) -> None:
        if self._draft is not None:
            self._draft = self._draft.with_room(value)
            self._describe()
        self.step = "confirm"

    def go_back(self) -> None:
        """返回 on the room or phone keypad opened from the card goes back to the card."""
        if self.step in ("room", "phone") and self._draft is not None:
            self.step = "confirm"
        else:
            super().go_back()

    def ask_phone(self) -> None:
        self.step = "phone"

    def phone_given(self, value: str) -> None:
        if self._draft is not None:
            self._draft = self._draft.with_phone(value)
            self._describe()
        self.step = "confirm"

    def confirm(self) -> None:
        """对，提交: into the outbox (durable even with the central service down)."""
        if self._draft is None or self.step == "sending":
            return
        self.step = "sending"
        self.submit_error = ""
        self.services.requests.submit(self._draft.body(), on_done=self._submitted, on_error=self._not_submitted)

    @while_running
    def _submitted(self, enqueued: Any) -> None:
        self.ticket = str(enqueued.local_ticket)
        self.offline = not self.services.requests.network_ok()
        self._describe()
        self.step = "ticket"
        self.action_finished()
        self.spoken = self.t("request.read_ticket", ticket=self.ticket, promise=self.promise)
        self.services.voice.say(self.spoken)

    @while_running
    def _not_submitted(self, _err: BaseException) -> None:
        self.submit_error = self.t("request.submit_failed")
        self.step = "confirm"

    def forget_request(self) -> None:
        """Drop the draft and ticket (reset)."""
        self._draft = None
        self.draft_kind = self.draft_summary = self.draft_location = self.draft_room = self.draft_phone = ""
        self.draft_urgency = "normal"
        self.draft_urgency_text = self.spoken = self.ticket = self.promise = self.submit_error = ""
        self.offline = False
        for entry in ("room_entry", "phone_entry"):
            if entry in self.ids:
                self.ids[entry].clear()
