"""The scripted offscreen tour of `lobby-kiosk demo`: drives the real app by taps.

A tour is a list of steps. Each step is a generator function taking the `Tour`;
it taps widgets, waits for what the screen shows and records what it produced
(`tour.record(ticket=...)`). The `Tour` runs the steps one after another inside
the app's main loop (scheduled with Clock), writes a numbered screenshot per
step (`NN-step.png`) and `summary.json`, and stops the app at the end. A failed
step is recorded with its reason and a screenshot of where it stood; the tour
goes home and carries on with the next step.

Yield protocol inside a step: `yield` waits one frame, `yield 0.5` waits half a
second of main-loop time; `yield from tour.wait_for(predicate, "what")` waits
until the predicate holds or fails the step after a timeout.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

StepGen = Generator[float | None, None, None]
StepFn = Callable[["Tour"], StepGen]
WAIT_TIMEOUT_S = 20.0


class StepFailed(Exception):
    """A tour step could not do what it should; str() is the reason shown in the summary."""


@dataclass(frozen=True)
class TourValues:
    """The resident's data the tour enters: distinctive, so a log scan for them means something."""

    spoken_text: str = "我家厨房的灯坏了"
    room: str = "942718"  # the room keypad takes up to six digits
    phone: str = "13957246813"
    pickup_code: str = "739214"
    technician_pin: str = "4817"

    def secrets(self) -> dict[str, str]:
        """What must never appear in any log, by name."""
        return {"transcript": self.spoken_text, "room": self.room, "phone": self.phone,
                "pickup_code": self.pickup_code}


@dataclass
class StepResult:
    """One line of summary.json."""

    number: int
    step: str
    ok: bool
    screenshot: str | None = None
    error: str | None = None
    seconds: float = 0.0
    produced: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """A named step of the tour and the steps whose results it needs."""

    name: str
    run: StepFn
    needs: tuple[str, ...] = ()


# -- the widget tree ----------------------------------------------------------------------


def walk(widget: Any) -> Iterator[Any]:
    """Every widget under `widget` (itself included), depth first."""
    yield widget
    for child in list(getattr(widget, "children", ())):
        yield from walk(child)


def is_shown(widget: Any) -> bool:
    """True when the widget is attached to the window, not disabled and has a size."""
    if getattr(widget, "disabled", False) or widget.width <= 1 or widget.height <= 1:
        return False
    if getattr(widget, "opacity", 1) == 0:
        return False
    w = widget
    for _ in range(200):  # up to the window, whose parent is itself
        parent = w.parent
        if parent is None:
            return False
        if parent is w:
            return True
        w = parent
    return False


def widget_text(widget: Any) -> str:
    """The words a widget shows (its `text`, else its `label`/`title`), or ''."""
    for attr in ("text", "label", "title"):
        value = getattr(widget, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


def find_text(root: Any, text: str, exact: bool = False) -> list[Any]:
    """Shown widgets under root whose words equal (exact) or contain `text`, innermost last."""
    out = []
    for w in walk(root):
        words = widget_text(w)
        if words and ((words == text) if exact else (text in words)) and is_shown(w):
            out.append(w)
    return out


def tappable(widget: Any) -> Any:
    """The nearest widget at or above `widget` that handles presses (a button), else itself."""
    w = widget
    while w is not None:
        if hasattr(w, "on_press") or hasattr(w, "on_release"):
            return w
        w = w.parent if w.parent is not w else None
    return widget


# -- the tour -----------------------------------------------------------------------------


class Tour:
    """Runs steps inside a running Kivy app and writes screenshots and summary.json to `out_dir`."""

    def __init__(self, app: Any, steps: Iterable[Step], out_dir: str | os.PathLike[str],
                 context: dict[str, Any] | None = None, wait_timeout_s: float = WAIT_TIMEOUT_S) -> None:
        self.app = app
        self.steps = list(steps)
        self.out_dir = Path(out_dir)
        self.context: dict[str, Any] = dict(context or {})
        self.wait_timeout_s = wait_timeout_s
        self.results: list[StepResult] = []
        self.finished = False
        self._current: StepResult | None = None
        self._gen: Iterator[float | None] | None = None

    # -- used by steps ----------------------------------------------------------------

    @property
    def window(self) -> Any:
        from kivy.core.window import Window  # noqa: PLC0415 - Kivy is imported by the app first

        return Window

    @property
    def services(self) -> Any:
        """The app's service layer."""
        return self.app.services

    def record(self, **produced: Any) -> None:
        """Note what the current step produced (ticket, compartment, reading, ...)."""
        assert self._current is not None
        self._current.produced.update(produced)

    def result(self, step: str) -> StepResult | None:
        """The result of an earlier step by name."""
        return next((r for r in self.results if r.step == step), None)

    def find(self, text: str, exact: bool = False) -> Any | None:
        """The innermost shown widget showing `text`, or None."""
        found = find_text(self.window, text, exact)
        return found[-1] if found else None

    def find_id(self, widget_id: str) -> Any | None:
        """A shown widget by kv id anywhere on the window (the current screen and any popup), or None."""
        for w in walk(self.window):
            target = getattr(w, "ids", {}).get(widget_id)
            if target is not None and is_shown(target):
                return target
        return None

    def current_screen(self) -> Any:
        """The screen the app shows now."""
        return self.app.sm.current_screen

    def current_name(self) -> str:
        return getattr(self.current_screen(), "name", "")

    def tap(self, widget: Any) -> StepGen:
        """Press and release at the centre of a widget, like a finger; then let two frames pass."""
        from kivy.tests.common import UnitTestTouch  # noqa: PLC0415

        yield 0.15  # a widget that just appeared is laid out on the next frames
        target = tappable(widget)
        x, y = target.to_window(*target.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        yield
        touch.touch_up()
        yield
        yield

    def tap_text(self, text: str, exact: bool = False, timeout: float | None = None) -> StepGen:
        """Wait for a shown widget with these words and tap it."""
        yield from self.wait_for(lambda: self.find(text, exact) is not None, f"a button showing {text!r}", timeout)
        yield from self.tap(self.find(text, exact))

    def tap_id(self, widget_id: str, timeout: float | None = None, optional: bool = False) -> StepGen:
        """Wait for the shown widget with this kv id and tap it (if `optional`, skip it when absent)."""
        if optional and self.find_id(widget_id) is None:
            return
        yield from self.wait_for(lambda: self.find_id(widget_id) is not None, f"the {widget_id!r} button", timeout)
        yield from self.tap(self.find_id(widget_id))

    def keypad(self) -> Any | None:
        """The keypad shown now (the last one found on the window), or None."""
        pads = [w for w in walk(self.window) if type(w).__name__ == "Keypad" and is_shown(w)]
        return pads[-1] if pads else None

    def tap_digits(self, digits: str) -> StepGen:
        """Tap each digit on the keypad shown now, and check the keypad took them."""
        yield from self.wait_for(lambda: self.keypad() is not None, "a keypad")
        pad = self.keypad()
        before = getattr(pad, "value", "")
        for d in digits:
            key = next((w for w in pad.children if widget_text(w) == d), None)
            if key is None:
                raise StepFailed(f"the keypad has no key {d!r}")
            yield from self.tap(key)
        if hasattr(pad, "value") and pad.value != (before + digits)[: int(getattr(pad, "max_length", 99))]:
            raise StepFailed("the keypad did not take every digit tapped")

    def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float | None = None) -> StepGen:
        """Yield frames until predicate() is truthy; StepFailed naming `what` after the timeout."""
        deadline = time.monotonic() + (timeout or self.wait_timeout_s)
        while True:
            if predicate():
                return
            yield from self._answer_idle_prompt()
            if time.monotonic() > deadline:
                raise StepFailed(f"timed out waiting for {what} (screen {self.current_name()!r})")
            yield 0.05

    def _answer_idle_prompt(self) -> StepGen:
        """A long wait can bring up 还需要更多时间吗？: answer 需要，继续 as the person would."""
        prompt = getattr(self.app, "prompt", None)
        more = getattr(prompt, "ids", {}).get("more") if prompt is not None else None
        if more is not None and is_shown(more):
            log.info("tour: answered the idle prompt")
            yield from self.tap(more)

    def background(self, fn: Callable[[], Any], what: str, timeout: float | None = None) -> StepGen:
        """Run fn on a helper thread (never block the UI thread) and wait for it; returns its value."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = fn()
            except Exception as err:  # noqa: BLE001 - handed back to the step as StepFailed
                box["error"] = err

        threading.Thread(target=work, name="tour-background", daemon=True).start()
        yield from self.wait_for(lambda: box, what, timeout)
        if "error" in box:
            raise StepFailed(f"{what}: {box['error']}")
        return box["value"]

    def wait_screen(self, name: str, timeout: float | None = None) -> StepGen:
        """Wait until the app shows the named screen."""
        yield from self.wait_for(lambda: self.current_name() == name, f"the {name} screen", timeout)
        yield 0.3  # let the transition finish before anyone taps or photographs

    def wait_text(self, text: str, timeout: float | None = None) -> StepGen:
        """Wait until some shown widget shows these words."""
        yield from self.wait_for(lambda: self.find(text) is not None, f"the words {text!r}", timeout)

    def screenshot(self, label: str) -> str:
        """Save the window as NN-label.png for the current step; returns the file name."""
        assert self._current is not None
        name = f"{self._current.number:02d}-{label}.png"
        self.save_window(self.out_dir / name)
        self._current.screenshot = name
        return name

    def save_window(self, path: Path) -> None:
        """Write what the window shows now to a PNG."""
        tmp = self.window.screenshot(name=str(path.with_name(f".{path.stem}.png")))
        os.replace(tmp, path)

    # -- running ----------------------------------------------------------------------

    def start(self) -> None:
        """Schedule the tour on the app's clock (call from on_start or before app.run())."""
        from kivy.clock import Clock  # noqa: PLC0415

        self.out_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.out_dir.glob("[0-9][0-9]-*.png"):
            stale.unlink()
        self._gen = self._run_all()
        Clock.schedule_once(self._tick, 0.5)

    def _tick(self, _dt: float) -> None:
        from kivy.clock import Clock  # noqa: PLC0415

        assert self._gen is not None
        try:
            wait = next(self._gen)
        except StopIteration:
            self._finish()
            return
        except BaseException:  # a bug in the framework itself: record and stop the app
            log.exception("the tour broke down")
            self._finish()
            raise
        Clock.schedule_once(self._tick, wait or 0)

    def _run_all(self) -> Iterator[float | None]:
        for number, step in enumerate(self.steps, start=1):
            self._current = StepResult(number, step.name, ok=False)
            self.results.append(self._current)
            started = time.monotonic()
            missing = [n for n in step.needs if not (r := self.result(n)) or not r.ok]
            if missing:
                self._current.error = f"skipped: needs {', '.join(missing)}"
            else:
                yield from self._run_step(step)
            self._current.seconds = round(time.monotonic() - started, 2)
            log.info("tour step %02d %s: %s", number, step.name, "ok" if self._current.ok else "FAILED")
            self.write_summary()

    def _run_step(self, step: Step) -> Iterator[float | None]:
        try:
            yield from step.run(self)
            self._current.ok = True
        except StepFailed as err:
            self._current.error = str(err)
        except Exception as err:  # a step's bug must not stop the rest of the tour
            self._current.error = f"{type(err).__name__}: {err}"
            log.error("tour step %s raised:\n%s", step.name, traceback.format_exc())
        if self._current.screenshot is None:
            yield 0.2  # let the last change be drawn (the window keeps the frame before)
            yield
            try:
                self.screenshot(step.name + ("" if self._current.ok else "-failed"))
            except Exception as err:  # noqa: BLE001 - a missing picture is reported, not fatal
                self._current.ok = False
                self._current.error = self._current.error or f"screenshot failed: {err}"
        if not self._current.ok:
            yield from self._recover()

    def _recover(self) -> Iterator[float | None]:
        """After a failure: close popups and go home so the next step starts clean."""
        try:
            for w in list(self.window.children):
                if hasattr(w, "dismiss"):
                    w.dismiss()
            screen = self.current_screen()
            if hasattr(screen, "go_home"):
                screen.go_home()
        except Exception:  # noqa: BLE001 - best effort only
            log.warning("tour could not go home after a failed step")
        yield 0.5

    def _finish(self) -> None:
        self.finished = True
        self.write_summary()
        self.app.stop()

    @property
    def ok(self) -> bool:
        return self.finished and bool(self.results) and all(r.ok for r in self.results) \
            and len(self.results) == len(self.steps)

    def summary(self) -> dict[str, Any]:
        """The content of summary.json."""
        produced: dict[str, Any] = {}
        for r in self.results:
            produced.update({k: v for k, v in r.produced.items() if k in ("ticket", "compartment", "reading")})
        return {"ok": self.ok, "finished": self.finished, **produced, **self.context,
                "steps": [asdict(r) for r in self.results]}

    def write_summary(self) -> Path:
        path = self.out_dir / "summary.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.summary(), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
        return path
