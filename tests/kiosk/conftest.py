"""Driving the real kiosk app headless with taps.

    def test_something(kiosk_app, drive):
        app = kiosk_app()                       # KioskApp on a temp state_dir, real services
        def scenario(d):
            yield from d.tap(d.find(text="取快递"))      # or d.find(id="btn_parcel")
            yield from d.wait(lambda: app.current == "parcel")
            assert ...
        drive(app, scenario)                     # runs the app, re-raises what failed

`d.find(text=..., id=..., cls=..., contains=...)` searches what is on screen now
(the current screen and any open popup). `d.tap(widget)` taps its centre with a
real touch. `d.frames(n)` lets n frames pass. `d.wait(cond, timeout, what)` yields
frames until cond() is true (AssertionError after timeout seconds).
`ManualClock` is the seam for the idle timer: `kiosk_app(now=clock)` then
`clock.advance(61)`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kivy.uix.widget import Widget

from kiosk import config
from kiosk.pin import hash_pin
from tests.conftest import free_port

PANEL = (1080, 1920)
TEST_PIN = "2468"

# The one window of this process: a 21.5-inch 1080x1920 panel (set before Kivy makes it).
from kivy.config import Config  # noqa: E402 - after the root conftest's environment

Config.set("graphics", "width", str(PANEL[0]))
Config.set("graphics", "height", str(PANEL[1]))
Config.set("graphics", "resizable", "0")
Config.set("graphics", "fullscreen", "0")
os.environ.setdefault("KIVY_METRICS_DENSITY", "1")


class ManualClock:
    """A monotonic clock that moves only when told (the idle timer's seam)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def make_config(state_dir: Path, *, broker_port: int | None = None, **ui: Any) -> config.KioskConfig:
    """A kiosk config for tests: temp state, a broker port (nothing listening by default), PIN 2468."""
    doc = {
        "site": {"building_id": "test-b", "kiosk_id": "kiosk-t", "state_dir": str(state_dir),
                 "building_name": "测试小区 2号楼"},
        "broker": {"host": "127.0.0.1", "port": broker_port or free_port(), "command_timeout_s": 2},
        "central": {"url": f"http://127.0.0.1:{free_port()}"},
        "technician": {"pin_hash": hash_pin(TEST_PIN, iterations=10_000)},
        "ui": {"fullscreen": False, **ui},
    }
    return config.from_document(doc)


class Driver:
    """Finds and taps widgets of the running app; every method that waits is a generator."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def roots(self) -> list[Any]:
        """The window's children; only the topmost popup while one is open (it takes every touch)."""
        from kivy.core.window import Window
        from kivy.uix.modalview import ModalView

        roots = list(Window.children)
        modals = [r for r in roots if isinstance(r, ModalView)]
        return modals[:1] or roots

    def walk(self) -> Iterator[Any]:
        for root in self.roots():
            yield from root.walk(restrict=True)

    def find_all(self, *, text: str | None = None, id: str | None = None, cls: type | str | None = None,
                 contains: str | None = None) -> list[Any]:
        shown = list(self.walk())
        if id is not None:
            visible = {w for w in shown if isinstance(w, Widget)}
            with_id = []
            for w in shown:
                target = getattr(w, "ids", {}).get(id)
                if target is not None and target in visible and target not in with_id:
                    with_id.append(target)
            shown = with_id
        found = []
        for w in shown:
            if text is not None and getattr(w, "text", None) != text:
                continue
            if contains is not None and contains not in str(getattr(w, "text", "")):
                continue
            if cls is not None and not (type(w).__name__ == cls if isinstance(cls, str) else isinstance(w, cls)):
                continue
            found.append(w)
        return found

    def find(self, **how: Any) -> Any:
        """The first widget matching; a label found by its text resolves to its button."""
        found = self.find_all(**how)
        assert found, f"nothing on screen matches {how} (screen {self.app.current!r})"
        widget = found[0]
        from kivy.uix.behaviors import ButtonBehavior
        from kivy.uix.label import Label

        if isinstance(widget, Label) and "id" not in how:
            parent = widget.parent
            while isinstance(parent, Widget):
                if isinstance(parent, ButtonBehavior):
                    return parent
                parent = parent.parent
        return widget

    def frames(self, n: int = 1) -> Iterator[None]:
        for _ in range(n):
            yield

    def tap(self, widget: Any) -> Iterator[None]:
        """A real touch down and up at the widget's centre (after a frame for layout), then two frames."""
        from kivy.tests import UnitTestTouch

        yield
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        yield
        touch.touch_up()
        yield from self.frames(2)

    def wait(self, cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Iterator[None]:
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
            yield


def _kv_sees(app: Any) -> None:
    """Point kv's `app` at `app`. The proxy caches the first app it sees until that app's on_stop,
    and widgets of a stopped app may still evaluate kv rules later (queued texture and layout
    updates): they must find an app, and the next app's widgets must find the next app."""
    from kivy.app import App
    from kivy.lang.parser import global_idmap

    App._running_app = app
    object.__setattr__(global_idmap["app"], "_obj", None)


def run_app(app: Any, scenario: Callable[[Driver], Iterator[Any]], timeout: float = 90.0) -> None:
    """Run the app, step the scenario a frame at a time once home is interactive, re-raise failures."""
    from kivy.clock import Clock

    driver = Driver(app)
    state: dict[str, Any] = {"error": None, "done": False}
    gen = scenario(driver)
    started = time.monotonic()

    def step(_dt: float) -> bool:
        try:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"scenario did not finish in {timeout}s")
            next(gen)
            return True
        except StopIteration:
            state["done"] = True
        except BaseException as err:  # re-raised in the test after the app has stopped
            state["error"] = err
        app.stop()
        return False

    app.bind(on_interactive=lambda *_a: Clock.schedule_interval(step, 0))
    _kv_sees(app)
    app.run()
    _kv_sees(app)
    if state["error"] is not None:
        raise state["error"]
    assert state["done"], "the app stopped before the scenario finished"


@pytest.fixture
def kiosk_config(tmp_path: Path) -> config.KioskConfig:
    return make_config(tmp_path / "state")


@pytest.fixture
def kiosk_app(tmp_path: Path):
    """Factory: kiosk_app(cfg=None, services=None, now=None, **ui) -> KioskApp (not yet running)."""
    from kiosk.app import KioskApp

    def make(cfg: config.KioskConfig | None = None, **kw: Any):
        ui = {k: kw.pop(k) for k in list(kw) if k in ("language", "large_text", "idle_timeout_s", "idle_after_action_s")}
        cfg = cfg or make_config(tmp_path / "state", **ui)
        if kw.get("now") is None:
            kw.pop("now", None)
        return KioskApp(cfg, **kw)

    return make


@pytest.fixture
def drive():
    return run_app


__all__ = ["Driver", "ManualClock", "make_config", "replace", "run_app", "TEST_PIN"]
