"""Notices: the list of active notices (high priority first), a notice's text, and 朗读 (read aloud)."""

from __future__ import annotations

import time

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)

from kiosk.screens.steps import StepScreen, load_pager_kv, while_running
from kiosk.widgets import BigButton

DEMO_NOTICES = (
    {"id": "demo-1", "title": "明天上午停水通知", "priority": "high", "ends_at": None,
     "body": "因管道检修，明天上午9点到12点全楼停水，请提前储水。给您带来不便，敬请谅解。"},
    {"id": "demo-2", "title": "周六社区义诊", "priority": "normal", "ends_at": None,
     "body": "本周六上午在社区活动室免费量血压、测血糖，欢迎老年朋友参加。"},
)


BODY_PAGE = 500        # characters of a notice's text per page (taps to page, never scrolling)
BODY_PAGE_LARGE = 250  # in 大字 mode


def split_pages(text: str, size: int) -> list[str]:
    """Split text into pages of at most `size` characters, preferring to end after 。！？ or a newline."""
    pages: list[str] = []
    rest = text.strip()
    while len(rest) > size:
        cut = max(rest.rfind(ch, 0, size) for ch in "。！？!?.\n")
        cut = cut + 1 if cut >= size // 2 else size
        pages.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest or not pages:
        pages.append(rest)
    return pages


def _as_dict(notice) -> dict:
    """A Notice (sync) or a dict, as the dict the screen shows."""
    if isinstance(notice, dict):
        return dict(notice)
    return {k: getattr(notice, k, None) for k in ("id", "title", "body", "priority", "ends_at")}


def until_text(ends_at) -> str:
    """'2026-11-30' from an RFC 3339 string or epoch seconds; '' when open-ended."""
    if not ends_at:
        return ""
    if isinstance(ends_at, (int, float)):
        return time.strftime("%Y-%m-%d", time.localtime(ends_at))
    return str(ends_at)[:10]


class NoticesScreen(StepScreen):
    """List -> detail with read-aloud."""

    name = "notices"
    title_key = "notices.title"
    step_instructions = {"list": "notices.instr_list", "detail": "notices.instr_detail"}
    step = OptionProperty("list", options=("list", "detail"))
    notices = ListProperty([])
    loading = BooleanProperty(False)
    notice_title = StringProperty("")
    notice_body = StringProperty("")
    notice_until = StringProperty("")
    notice_high = BooleanProperty(False)
    body_pages = ListProperty([])
    body_page = NumericProperty(0)

    def __init__(self, **kw) -> None:
        load_pager_kv()
        self._demo = False
        self._open_id: str | None = None
        super().__init__(**kw)
        self.set_instructions("notices.instr_list")

    def on_params(self, notice_id: str | None = None, **_params) -> None:
        self._open_id = notice_id

    def on_pre_enter(self, *_args) -> None:
        if self._demo:
            return
        self.loading = True
        self.services.requests.notices(on_done=self._loaded, on_error=self._load_failed)

    def reset(self) -> None:
        self._demo = False
        self._open_id = None
        self.notices = []
        self.step = "list"
        self.notice_title = self.notice_body = self.notice_until = ""
        self.notice_high = False
        self.body_pages = []
        self.body_page = 0

    def show_demo_state(self) -> None:
        self.reset()
        self._demo = True          # screenshots: an outbox read still under way must not replace these
        self.loading = False
        self.notices = [dict(n) for n in DEMO_NOTICES]

    # -- list ------------------------------------------------------------------------
    @while_running
    def _loaded(self, notices) -> None:
        if self._demo:
            return
        self.loading = False
        self.notices = [_as_dict(n) for n in notices]
        wanted = self._open_id
        if wanted:
            for n in self.notices:
                if n["id"] == wanted:
                    self.open_notice(n)
                    break

    @while_running
    def _load_failed(self, _err: BaseException) -> None:
        if self._demo:
            return
        self.loading = False
        self.notices = []

    def on_notices(self, _inst, notices: list) -> None:
        box = self.ids.get("notice_list")
        if box is None:
            return
        buttons = []
        for n in notices:
            important = n.get("priority") == "high"
            label = (f"【{self.t('notices.important')}】" if important else "") + str(n.get("title") or "")
            button = BigButton(text=label, icon="bell" if important else "list", horizontal=True,
                               style="notice" if important else "secondary", size_hint_y=None,
                               height=self.theme.button_height)
            button.bind(on_release=lambda _b, notice=n: self.open_notice(notice))
            buttons.append(button)
        box.set_items(buttons)

    def on_language(self) -> None:
        self.on_notices(self, self.notices)
        self._paginate()

    # -- detail ------------------------------------------------------------------------
    def open_notice(self, notice: dict) -> None:
        self.notice_title = str(notice.get("title") or "")
        self.notice_body = str(notice.get("body") or "")
        self.notice_until = until_text(notice.get("ends_at"))
        self.notice_high = notice.get("priority") == "high"
        self._paginate()
        self.step = "detail"

    def _paginate(self) -> None:
        self.body_page = 0
        self.body_pages = split_pages(self.notice_body, BODY_PAGE_LARGE if self.theme.large_text else BODY_PAGE)

    def read_aloud(self) -> None:
        """朗读: speak the notice (the words are on screen already)."""
        self.services.voice.say(f"{self.notice_title}。{self.notice_body}")

    def back_to_list(self) -> None:
        self.step = "list"
