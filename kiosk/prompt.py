"""The idle prompt: 还需要更多时间吗？ with 需要更多时间 and 回到首页, and a countdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView

_KV = Path(__file__).with_suffix(".kv")
_loaded = False


class IdlePrompt(ModalView):
    """Asks whether the resident needs more time; the app closes it or goes home."""

    seconds_left = NumericProperty(15)

    def __init__(self, on_more: Callable[[], None], on_home: Callable[[], None], **kw) -> None:
        global _loaded
        if not _loaded:
            Builder.load_file(str(_KV))
            _loaded = True
        self._on_more = on_more
        self._on_home = on_home
        super().__init__(**kw)

    def more(self) -> None:
        self._on_more()

    def home(self) -> None:
        self._on_home()
