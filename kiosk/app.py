"""KioskApp: the screen manager, navigation, idle return, language and 大字, watchdog.

Wiring only: screens live in kiosk/screens/, the look in kiosk/theme.py and
the kv files, the subsystems behind kiosk/services/.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig
from kiosk.i18n import catalog
from kiosk.idle import IdleTimer
from kiosk.watchdog import Notifier

log = logging.getLogger(__name__)
TICK_S = 0.5  # idle checks
SIGINT_EXIT = 128 + signal.SIGINT  # 130: the shell's convention for "stopped by Ctrl-C"


def configure_window(cfg: KioskConfig, size: tuple[int, int] | None = None, fullscreen: bool | None = None) -> None:
    """Set the window size and mode; must run before kivy.core.window is imported."""
    from kivy.config import Config  # noqa: PLC0415 - Kivy is configured before the window exists

    w, h = size or cfg.ui.size_px
    Config.set("graphics", "width", str(w))
    Config.set("graphics", "height", str(h))
    Config.set("graphics", "resizable", "0")
    full = cfg.ui.fullscreen if fullscreen is None else fullscreen
    Config.set("graphics", "fullscreen", "auto" if full else "0")
    Config.set("graphics", "show_cursor", "0" if full else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")


def preload_subsystems() -> threading.Thread:
    """Import the subsystems on a background thread while the window opens, so that starting
    the services once home is drawn does not spend most of a second importing on the UI thread.

    Not voice.intent: its pinyin dictionaries take ~0.7 s to import, mostly unmarshalling huge
    literals that hold the GIL (and so the window's start) for ~0.2 s at a time. The kiosk-voice
    worker imports it after home is interactive (VoiceAccess loads the vocabulary)."""

    def load() -> None:
        try:
            import devices.link  # noqa: F401, PLC0415
            import sync.outbox  # noqa: F401, PLC0415
            import voice.service  # noqa: F401, PLC0415
        except ImportError as err:  # an absent subsystem is reported when the services start
            log.info("subsystem not importable: %s", err)

    thread = threading.Thread(target=load, name="kiosk-preload", daemon=True)
    thread.start()
    return thread


def _app_class():
    """Build the App subclass on first use, so importing kiosk.app does not start Kivy."""
    from kivy.app import App  # noqa: PLC0415
    from kivy.clock import Clock  # noqa: PLC0415
    from kivy.core.window import Window  # noqa: PLC0415
    from kivy.properties import ObjectProperty, StringProperty  # noqa: PLC0415
    from kivy.uix.screenmanager import NoTransition, ScreenManager  # noqa: PLC0415

    from kiosk import screens  # noqa: PLC0415
    from kiosk.services import Services  # noqa: PLC0415
    from kiosk.theme import PAIRS, Theme, register_font  # noqa: PLC0415
    from kiosk.widgets import load_widgets_kv  # noqa: PLC0415

    class KioskApp(App):
        """The lobby kiosk. `services` may be passed in (tests, screenshots); `now` is the idle clock."""

        lang = StringProperty("zh")
        theme = ObjectProperty(None)

        def __init__(self, cfg: KioskConfig, services: Services | None = None,
                     now: Callable[[], float] = time.monotonic, notifier: Notifier | None = None,
                     px_per_mm: float | None = None, **kw: Any) -> None:
            self.cfg = cfg
            self.services = services if services is not None else Services(cfg)
            self.notifier = notifier if notifier is not None else Notifier.from_env()
            self.theme = Theme(px_per_mm=px_per_mm or cfg.ui.px_per_mm, large_text=cfg.ui.large_text)
            self.idle = IdleTimer(cfg.ui.idle_timeout_s, cfg.ui.idle_after_action_s, now=now)
            self.history: list[str] = []
            self.created: dict[str, Any] = {}
            self.interactive_at: float | None = None
            self._prompt: Any = None
            self._fonts_warm = False
            self.settled = False  # start-up work done: subsystems started, fonts warm, start-up objects frozen
            self._events: list[Any] = []
            self.register_event_type("on_interactive")
            super().__init__(**kw)
            self.lang = cfg.ui.language
            self.title = "lobby-kiosk"

        # -- building -------------------------------------------------------------
        def build(self):
            preload_subsystems()
            register_font(self.cfg.ui.font_file)
            load_widgets_kv()
            Window.clearcolor = PAIRS["base"].bg
            self.sm = ScreenManager(transition=NoTransition())
            self.screen("home")
            self.sm.current = "home"
            Window.bind(on_touch_down=self._touched)
            return self.sm

        def on_start(self) -> None:
            self._events.append(Clock.schedule_interval(self._tick, TICK_S))
            Clock.schedule_once(lambda _dt: Clock.schedule_once(self._became_interactive, 0), 0)

        def _became_interactive(self, _dt: float) -> None:
            self.interactive_at = time.monotonic()
            # subsystems start once home is on screen, on their own threads: they never delay it
            self.services.start()
            if self.notifier.enabled:
                self.notifier.ready()
                self.notifier.ping()
                # pinged from the main loop: a hung UI thread stops the pings and systemd restarts us
                self._events.append(Clock.schedule_interval(lambda _dt: self.notifier.ping(), self.notifier.interval_s))
            self.dispatch("on_interactive")
            sizes = list(self.theme.font_sizes())
            Clock.schedule_once(lambda _dt: self._warm_fonts(sizes), 0)
            self._events.append(Clock.schedule_interval(self._settle, 0.25))

        def _warm_fonts(self, sizes: list[float]) -> None:
            """Open the font at every theme size, one per frame, while nobody is using the kiosk
            yet: the first text at a new size costs a long frame, better now than mid-request."""
            from kivy.core.text import Label as CoreLabel  # noqa: PLC0415

            if not sizes or self.interactive_at is None:
                self._fonts_warm = True
                return
            CoreLabel(text="语音量血压 Aa1", font_size=sizes.pop()).refresh()
            Clock.schedule_once(lambda _dt: self._warm_fonts(sizes), 0)

        def _settle(self, _dt: float) -> bool:
            """Once the subsystems have started and the fonts are warm: one full collection, then
            gc.freeze(), so later collections never walk the tens of thousands of start-up objects
            (an unfrozen full collection measured ~90 ms on the main loop)."""
            if not self.services.started.is_set() or not self._fonts_warm:
                return True
            gc.collect()
            gc.freeze()
            log.debug("start-up objects frozen: %d", gc.get_freeze_count())
            self.settled = True
            return False

        def on_interactive(self) -> None:
            """Home is drawn and takes touches (READY=1 has been sent)."""

        def on_stop(self) -> None:
            self.interactive_at = None
            for ev in self._events:
                ev.cancel()
            self._events.clear()
            Window.unbind(on_touch_down=self._touched)
            self._close_prompt()
            for widget in self.created.values():
                try:
                    widget.on_app_stop()
                except Exception:  # stopping: one screen's failure must not keep the others running
                    log.exception("stopping screen %s failed", widget.name)
            self.notifier.stopping()
            self.services.stop()

        def screen(self, name: str):
            """The screen `name`, created (and added) on first use."""
            if name not in self.created:
                cls = screens.screen_class(name)
                widget = cls(name=name)
                self.created[name] = widget
                self.sm.add_widget(widget)
            return self.created[name]

        # -- strings ------------------------------------------------------------------
        def tr(self, key: str, lang: str | None = None, **fmt: Any) -> str:
            """Translate a strings key; in kv pass app.lang so the text follows the language."""
            return catalog().t(key, lang or self.lang, **fmt)

        def toggle_language(self) -> None:
            self.lang = "en" if self.lang == "zh" else "zh"

        def toggle_large_text(self) -> None:
            self.theme.large_text = not self.theme.large_text

        # -- navigation -----------------------------------------------------------------
        @property
        def current(self) -> str:
            return self.sm.current

        def navigate(self, name: str, **params: Any) -> None:
            """Show screen `name` after passing it `params` (on_params)."""
            target = self.screen(name)
            if self.sm.current != name:
                self.history.append(self.sm.current)
            target.on_params(**params)
            self.sm.current = name
            self.idle.touched()

        def go_back(self) -> None:
            if not self.history:
                self.go_home()
                return
            previous = self.history.pop()
            if previous == "home":
                self.go_home()
            else:
                self.sm.current = previous

        def go_home(self) -> None:
            """Home; every created screen forgets what was typed, said or shown."""
            self._close_prompt()
            self.history.clear()
            for widget in self.created.values():
                try:
                    widget.reset()
                except Exception:  # one broken screen must not keep the others' data on screen
                    log.exception("reset of screen %s failed", widget.name)
            self.sm.current = "home"
            self.idle.answered()

        def action_finished(self) -> None:
            self.idle.action_finished()

        # -- idle ----------------------------------------------------------------------------
        def _touched(self, _window, _touch) -> bool:
            self.idle.touched()
            return False

        def _tick(self, _dt: float) -> None:
            state = self.idle.check()
            if self.sm.current == "home":
                self._close_prompt()
                if state != "active":
                    self._idle_home()
                return
            if state == "active":
                return
            if state == "prompt":
                self._show_prompt()
            else:
                log.info("idle: returning home")
                self.go_home()
                self._restore_defaults()

        def _idle_home(self) -> None:
            """Nobody there: back to the configured language and text size, clear home."""
            self._restore_defaults()
            self.created["home"].reset()
            self.idle.answered()

        def _restore_defaults(self) -> None:
            self.lang = self.cfg.ui.language
            self.theme.large_text = self.cfg.ui.large_text

        def _show_prompt(self) -> None:
            from kiosk.prompt import IdlePrompt  # noqa: PLC0415

            if self._prompt is None:
                self._prompt = IdlePrompt(on_more=self._more_time, on_home=self.go_home)
                self._prompt.open(animation=False)
            self._prompt.seconds_left = int(self.idle.prompt_left_s() + 0.999)

        def _more_time(self) -> None:
            self.idle.answered()
            self._close_prompt()

        def _close_prompt(self) -> None:
            if self._prompt is not None:
                self._prompt.dismiss(animation=False)
                self._prompt = None

        @property
        def prompt(self):
            """The open 还需要更多时间吗？ prompt, or None."""
            return self._prompt

    return KioskApp


_KioskApp = None


def kiosk_app_class():
    """The KioskApp class (Kivy is imported on the first call)."""
    global _KioskApp
    if _KioskApp is None:
        _KioskApp = _app_class()
    return _KioskApp


def KioskApp(cfg: KioskConfig, **kw: Any):  # noqa: N802 - reads like the class it builds
    """Create the app: `KioskApp(cfg, services=..., now=..., notifier=...)`."""
    return kiosk_app_class()(cfg, **kw)


def run(cfg: KioskConfig) -> int:
    """`lobby-kiosk run`: the app, windowed or full screen as configured. Returns the exit code.

    SIGTERM (systemd stop) and Ctrl-C (SIGINT) stop the app cleanly: the subsystems are stopped
    and STOPPING=1 is sent. Exit status 0 after SIGTERM or a normal close, 130 after SIGINT.
    """
    configure_window(cfg)
    try:
        Path(cfg.state_dir).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        log.warning("state_dir %s cannot be created: %s", cfg.state_dir, err)
    app = KioskApp(cfg)
    from kivy.clock import Clock  # noqa: PLC0415

    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        received.append(signum)
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        app.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return SIGINT_EXIT if signal.SIGINT in received[:1] else 0
