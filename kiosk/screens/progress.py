"""Progress: find requests by room number or ticket on a keypad; status in words; rate finished ones.

Rooms and phone numbers are masked on screen (kiosk.mask); a finished
request can be rated with five big stars (stored in the outbox, the sync
agent sends it).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.mask import mask_phone, mask_room
from kiosk.screens import repair_request
from kiosk.screens.steps import StepScreen, load_pager_kv, while_running
from kiosk.widgets import Card, Painted

STATUS_BADGE = {"pending": "warn", "accepted": "ok", "in_progress": "warn", "done": "ok", "cancelled": "disabled"}
STATUS_ICON = {"pending": "bell", "accepted": "check", "in_progress": "wrench", "done": "check",
               "cancelled": "cross"}
LOCAL_TICKET = "K-{:04d}"
MAX_DIGITS = 8


def ticket_candidates(digits: str) -> list[str]:
    """Tickets a resident may mean by typed digits: the central's number, or the kiosk's K-0042."""
    digits = digits.strip()
    if not digits.isdigit():
        return []
    out = [digits]
    if len(digits) <= 6:
        out.append(LOCAL_TICKET.format(int(digits)))
    return out


def _view(r: Any) -> dict[str, Any]:
    """RequestView (sync) -> what a row shows. Only masked rooms and phone numbers reach the screen
    (a view without a phone field shows none)."""
    return {
        "id": r.id, "ticket": r.ticket or r.local_ticket, "status": r.status, "delivery": r.delivery,
        "summary": r.summary, "room": mask_room(r.room), "phone": mask_phone(getattr(r, "phone", None)),
        "note": r.note or "", "rating": r.rating or 0,
    }


class ProgressScreen(StepScreen):
    """Find (room / ticket) -> list with status in words -> rate a finished one."""

    name = "progress"
    title_key = "progress.title"
    step_instructions = {"find": "progress.instr_find", "searching": "progress.instr_find",
                         "list": "progress.instr_list", "rate": "progress.instr_rate"}
    step = OptionProperty("find", options=("find", "searching", "list", "rate"))
    mode = OptionProperty("room", options=("room", "ticket"))
    entry = StringProperty("")
    results = ListProperty([])
    searched = BooleanProperty(False)
    rating_id = StringProperty("")
    rating_ticket = StringProperty("")
    rated_stars = StringProperty("")
    shown_stars = NumericProperty(0)

    def __init__(self, **kw) -> None:
        load_pager_kv()
        repair_request.load()   # Badge
        super().__init__(**kw)
        self.set_instructions("progress.instr_find")

    def on_params(self, ticket: str | None = None, room: str | None = None, **_params) -> None:
        """go("progress", ticket="K-0003") shows that request straight away."""
        if ticket or room:
            self.search(room=room, tickets=[ticket] if ticket else None)

    def reset(self) -> None:
        self.entry = ""
        if "keypad" in self.ids:
            self.ids.keypad.clear()
        self.results = []
        self.searched = False
        self.rating_id = self.rating_ticket = self.rated_stars = ""
        self.shown_stars = 0
        self.mode = "room"
        self.step = "find"

    def show_demo_state(self) -> None:
        self.reset()
        self.searched = True
        self.results = [
            {"id": "d1", "ticket": "100042", "status": "in_progress", "delivery": "delivered",
             "summary": "楼道灯不亮", "room": mask_room("1201"), "phone": mask_phone("13812345678"), "note": "电工下午到", "rating": 0},
            {"id": "d2", "ticket": "100031", "status": "done", "delivery": "delivered",
             "summary": "家中水管漏水", "room": mask_room("1201"), "note": "", "rating": 0},
            {"id": "d3", "ticket": "K-0007", "status": "pending", "delivery": "pending",
             "summary": "电梯故障停运", "room": "", "note": "", "rating": 0},
        ]
        self.step = "list"

    # -- find --------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.entry = ""
        self.ids.keypad.clear()

    def find(self) -> None:
        """查找 with what was typed."""
        value = self.entry
        if not value:
            return
        if self.mode == "room":
            self.search(room=value)
        else:
            self.search(tickets=ticket_candidates(value))

    def search(self, room: str | None = None, tickets: list[str] | None = None) -> None:
        self.step = "searching"
        found: dict[str, Any] = {}
        queries: list[dict[str, Any]] = [{"room": room}] if room else [{"ticket": t} for t in tickets or []]

        @while_running
        def next_query(result: list[Any] | None = None) -> None:
            for r in result or []:
                found.setdefault(r.id, r)
            if queries:
                self.services.requests.find(**queries.pop(0), on_done=next_query, on_error=failed)
            else:
                self._show(list(found.values()))

        def failed(_err: BaseException) -> None:
            self._show(list(found.values()))

        next_query()

    @while_running
    def _show(self, views: list[Any]) -> None:
        views.sort(key=lambda r: r.created_at, reverse=True)
        self.results = [_view(r) for r in views]
        self.searched = True
        self.step = "list"

    def search_again(self) -> None:
        self.entry = ""
        self.ids.keypad.clear()
        self.results = []
        self.searched = False
        self.step = "find"

    # -- list --------------------------------------------------------------------------
    def on_results(self, _inst, results: list) -> None:
        self._build_rows()

    def on_language(self) -> None:
        self._build_rows()

    def _build_rows(self) -> None:
        box = self.ids.get("result_list")
        if box is None:
            return
        rows = []
        for r in self.results:
            row = ProgressRow()
            row.request_id = r["id"]
            row.ticket_text = self.t("progress.ticket", ticket=r["ticket"])
            row.summary = r["summary"]
            row.status = STATUS_BADGE.get(r["status"], "warn")
            row.status_icon = STATUS_ICON.get(r["status"], "bell")
            row.status_text = self.t(f"progress.status_{r['status']}")
            extra = []
            if r["room"]:
                extra.append(self.t("progress.room", room=r["room"]))
            if r.get("phone"):
                extra.append(self.t("request.callback_number", phone=r["phone"]))
            if r["delivery"] == "rejected":
                extra.append(self.t("progress.rejected"))
            elif r["delivery"] != "delivered":
                extra.append(self.t("progress.not_sent_yet"))
            if r["note"]:
                extra.append(self.t("progress.note", note=r["note"]))
            if r["rating"]:
                extra.append(self.t("progress.rated", stars=r["rating"]))
            row.extra = "\n".join(extra)
            row.can_rate = r["status"] == "done"
            row.bind(on_rate=lambda _row, rid=r["id"], ticket=r["ticket"]: self.open_rating(rid, ticket))
            rows.append(row)
        box.set_items(rows)

    # -- rate ----------------------------------------------------------------------------
    def open_rating(self, request_id: str, ticket: str) -> None:
        self.rating_id = request_id
        self.rating_ticket = ticket
        self.rated_stars = ""
        self.shown_stars = 0
        self.step = "rate"

    def rate(self, stars: int) -> None:
        """One of the five big stars."""
        if not self.rating_id or self.rated_stars:
            return
        rid = self.rating_id

        self.shown_stars = stars

        @while_running
        def done(_result: Any) -> None:
            self.rated_stars = str(stars)
            for r in self.results:
                if r["id"] == rid:
                    r["rating"] = stars
            self._build_rows()
            self.action_finished()

        def failed(_err: BaseException) -> None:
            self.shown_stars = 0

        self.services.requests.rate(rid, stars, on_done=done, on_error=failed)


class StarButton(ButtonBehavior, Painted, BoxLayout):
    """One of the five big stars: a star picture and its number; lit up to the chosen rating."""

    stars = NumericProperty(1)
    lit = BooleanProperty(False)


class ProgressRow(Card):
    """One request in the list: ticket, summary, status (badge: symbol + words), notes, 打分."""

    request_id = StringProperty("")
    ticket_text = StringProperty("")
    summary = StringProperty("")
    status = StringProperty("warn")
    status_icon = StringProperty("bell")
    status_text = StringProperty("")
    extra = StringProperty("")
    can_rate = BooleanProperty(False)

    def __init__(self, **kw) -> None:
        self.register_event_type("on_rate")
        super().__init__(**kw)

    def on_rate(self) -> None:
        """The 打分 button was tapped."""
