"""The idle prompt: 还需要更多时间吗？ with 需要，继续 and 回到首页, and a countdown."""

from __future__ import annotations

from collections.abc import Callable

from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView

from kiosk.screens.base import load_kv


class IdlePrompt(ModalView):
    """Asks whether the resident needs more time; the app closes it or goes home."""

    seconds_left = NumericProperty(15)

    def __init__(self, on_more: Callable[[], None], on_home: Callable[[], None], **kw) -> None:
        load_kv(__file__)  # prompt.kv, once per process
        self._on_more = on_more
        self._on_home = on_home
        super().__init__(**kw)

    def more(self) -> None:
        self._on_more()

    def home(self) -> None:
        self._on_home()
