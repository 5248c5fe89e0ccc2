"""KioskScreen: the frame and hooks every screen shares.

A screen is `kiosk/screens/<name>.py` with `class <Name>Screen(KioskScreen)` and
`name = "<name>"`, plus `kiosk/screens/<name>.kv` (loaded automatically the
first time the class is instantiated). Its kv rule's single child goes into
the content area of the standard frame:

    <ParcelScreen>:
        BoxLayout:          # placed under the title and the instructions
            ...

The frame (base.kv): NavBar (返回 unless `show_back` is False, 首页), the title,
the instructions line (always visible), the content area.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

log = logging.getLogger(__name__)
_loaded_kv: set[str] = set()


def load_kv(path: str | Path) -> None:
    """Load a .kv file once per process (`load_kv(__file__)` loads the .kv beside a module)."""
    kv = str(Path(path).with_suffix(".kv").resolve())
    if kv not in _loaded_kv and Path(kv).is_file():
        _loaded_kv.add(kv)
        Builder.load_file(kv)


class KioskScreen(Screen):
    """Base of every kiosk screen.

    Hooks a screen overrides: `on_params(**params)` (arguments of `go()`), `stop_timers()`
    (cancel its Clock events and sessions: runs on leaving and when the app stops),
    `reset()` (forget everything typed, said or shown; call super), `on_language()`
    (texts set from Python must be re-translated), `show_demo_state()` (a
    representative state for screenshots, no network).
    """

    title = StringProperty("")
    instructions = StringProperty("")
    show_back = BooleanProperty(True)
    show_switches = BooleanProperty(False)  # 大字 and language in the top bar (Home)
    title_key = ""  # class attribute: strings key of the title, e.g. "parcel.title"

    def __init__(self, **kw: Any) -> None:
        load_kv(Path(__file__))
        load_kv(Path(inspect.getfile(type(self))))
        self._content_ready = False
        self._instructions_key: tuple[str, dict[str, Any]] | None = None
        super().__init__(**kw)
        self._content_ready = True
        app = self.app
        if app is not None:
            app.bind(lang=self._language_changed)
        self._translate_fixed()

    # -- frame -------------------------------------------------------------------
    def add_widget(self, widget, *args, **kwargs):
        """Children from a screen's kv rule go into the content area of the frame."""
        content = self.ids.get("content") if hasattr(self, "ids") else None
        if content is not None and widget is not self.ids.get("frame"):
            return content.add_widget(widget, *args, **kwargs)
        return super().add_widget(widget, *args, **kwargs)

    # -- app and services ----------------------------------------------------------
    @property
    def app(self):
        return App.get_running_app()

    @property
    def services(self):
        """The service layer (kiosk/services): devices, requests, voice, run(), availability()."""
        return self.app.services

    @property
    def theme(self):
        return self.app.theme

    def t(self, key: str, **fmt: Any) -> str:
        """Translate a strings key ("common.back") into the current language."""
        return self.app.tr(key, **fmt)

    # -- navigation ----------------------------------------------------------------
    def go(self, name: str, **params: Any) -> None:
        """Show screen `name`; it receives `params` in on_params()."""
        self.app.navigate(name, **params)

    def go_back(self) -> None:
        self.app.go_back()

    def go_home(self) -> None:
        """Back to Home; every screen's reset() is called."""
        self.app.go_home()

    def action_finished(self) -> None:
        """The resident's action is done: idle now returns home after ui.idle_after_action_s."""
        self.app.action_finished()

    def set_instructions(self, key: str, **fmt: Any) -> None:
        """Show instructions from a strings key; kept translated when the language changes."""
        self._instructions_key = (key, fmt)
        self.instructions = self.t(key, **fmt)

    # -- hooks -----------------------------------------------------------------------
    def on_params(self, **params: Any) -> None:
        """Called with the arguments of go() before the screen is shown."""

    def reset(self) -> None:
        """Forget everything typed, said or shown (idle and going home call this)."""

    def on_language(self) -> None:
        """The language changed: re-translate texts that were set from Python."""

    def show_demo_state(self) -> None:
        """Put the screen in a representative state for screenshots, using no network."""

    def stop_timers(self) -> None:
        """Cancel the Clock events and sessions the screen runs (called when the screen is left
        and when the app stops)."""

    def on_leave(self, *_args: Any) -> None:
        self.stop_timers()

    def on_app_stop(self) -> None:
        """The app is stopping: cancel Clock events and listeners the screen started."""
        self.stop_timers()

    # -- internals ---------------------------------------------------------------------
    def _translate_fixed(self) -> None:
        if self.title_key:
            self.title = self.t(self.title_key)
        if self._instructions_key is not None:
            key, fmt = self._instructions_key
            self.instructions = self.t(key, **fmt)

    def _language_changed(self, *_args) -> None:
        self._translate_fixed()
        self.on_language()
