"""The accessibility walk: what is on screen now, checked against the theme's rules.

`check_window(theme)` walks every visible widget (the current screen and any
popup) and returns a list of human-readable problems: touch targets under
15 mm, gaps under 3 mm between targets, text under the minimum size, text that
does not fit its box, text or icons under 7:1 against what they are drawn on,
anything outside the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kivy.core.window import Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView

from kiosk.theme import MIN_CONTRAST, MIN_GAP_MM, MIN_TARGET_MM, contrast_ratio
from kiosk.widgets import Icon, Painted

TOL_PX = 1.0


def visible_widgets() -> Iterator[Any]:
    """Every widget drawn now (opacity > 0 up the tree, non-zero size)."""

    def walk(widget: Any, shown: bool) -> Iterator[Any]:
        shown = shown and widget.opacity > 0.01
        if not shown:
            return
        if widget.width > 0.5 and widget.height > 0.5:
            yield widget
        for child in reversed(widget.children):
            yield from walk(child, shown)

    roots = list(Window.children)  # children[0] is the topmost
    modals = [r for r in roots if isinstance(r, ModalView)]
    if modals:
        roots = [modals[0]]  # what is under an open popup cannot be touched
    for root in roots:
        yield from walk(root, True)


def window_rect(w: Any) -> tuple[float, float, float, float]:
    x0, y0 = w.to_window(w.x, w.y)
    return x0, y0, x0 + w.width, y0 + w.height


def background(w: Any) -> tuple[float, ...]:
    """The colour a widget is drawn on: nearest opaque Painted ancestor, else the window."""
    parent = w.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, Painted) and parent.bg_color[3] > 0.99:
            return tuple(parent.bg_color)
        parent = parent.parent
    return tuple(Window.clearcolor)


def blend(fg: tuple[float, ...], bg: tuple[float, ...]) -> tuple[float, ...]:
    a = fg[3] if len(fg) > 3 else 1.0
    return tuple(fg[i] * a + bg[i] * (1 - a) for i in range(3)) + (1.0,)


def describe(w: Any) -> str:
    text = getattr(w, "text", "")
    label = f" {text[:24]!r}" if text else ""
    return f"{type(w).__name__}{label}"


def check_window(theme: Any) -> list[str]:
    """Problems with what is on screen now (empty list: all rules hold)."""
    problems: list[str] = []
    widgets = list(visible_widgets())
    min_target = theme.mm(MIN_TARGET_MM) - TOL_PX
    min_gap = theme.mm(MIN_GAP_MM) - TOL_PX
    min_font = theme.min_font_px - 0.5
    targets = [w for w in widgets if isinstance(w, ButtonBehavior) and not w.disabled]
    for w in widgets:
        x0, y0, x1, y1 = window_rect(w)
        if (isinstance(w, (ButtonBehavior, Label))) and (x0 < -TOL_PX or y0 < -TOL_PX or x1 > Window.width + TOL_PX
                                                       or y1 > Window.height + TOL_PX):
            problems.append(f"{describe(w)} is outside the window ({x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f})")
    for w in targets:
        if w.width < min_target or w.height < min_target:
            problems.append(f"target {describe(w)} is {theme.px_to_mm(w.width):.1f}x{theme.px_to_mm(w.height):.1f} mm "
                            f"(minimum {MIN_TARGET_MM:g} mm)")
    for i, a in enumerate(targets):
        ra = window_rect(a)
        for b in targets[i + 1:]:
            if _nested(a, b):
                continue
            rb = window_rect(b)
            dx = max(rb[0] - ra[2], ra[0] - rb[2])
            dy = max(rb[1] - ra[3], ra[1] - rb[3])
            if max(dx, dy) < min_gap:
                problems.append(f"targets {describe(a)} and {describe(b)} are {theme.px_to_mm(max(dx, dy)):.1f} mm apart "
                                f"(minimum {MIN_GAP_MM:g} mm)")
    for w in widgets:
        if isinstance(w, Label) and w.text.strip():
            if w.font_size < min_font:
                problems.append(f"text {describe(w)} font {theme.px_to_mm(w.font_size):.1f} mm is under the minimum "
                                f"{theme.px_to_mm(theme.min_font_px):.1f} mm")
            tw, th = w.texture_size
            if tw > w.width + TOL_PX or th > w.height + TOL_PX:
                problems.append(f"text {describe(w)} does not fit: {tw:.0f}x{th:.0f} px in {w.width:.0f}x{w.height:.0f}")
            box = _painted_ancestor(w)
            if box is not None and not _inside(_text_rect(w), window_rect(box)):
                problems.append(f"text {describe(w)} spills out of its {type(box).__name__}")
            bg = background(w)
            ratio = contrast_ratio(blend(tuple(w.color), bg), bg)
            if ratio < MIN_CONTRAST - 0.01:
                problems.append(f"text {describe(w)} contrast {ratio:.2f}:1 (minimum {MIN_CONTRAST:g}:1)")
        elif isinstance(w, Icon) and w.kind:
            bg = background(w)
            ratio = contrast_ratio(blend(tuple(w.color), bg), bg)
            if ratio < MIN_CONTRAST - 0.01:
                problems.append(f"icon {w.kind!r} contrast {ratio:.2f}:1 (minimum {MIN_CONTRAST:g}:1)")
    return problems


def _painted_ancestor(w: Any) -> Any:
    parent = w.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, (Painted, ButtonBehavior)):
            return parent
        parent = parent.parent
    return None


def _text_rect(w: Any) -> tuple[float, float, float, float]:
    """Where the label's text is drawn: its texture centred in its box (Kivy's default)."""
    x0, y0, x1, y1 = window_rect(w)
    tw, th = w.texture_size
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2


def _inside(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    return (inner[0] >= outer[0] - TOL_PX and inner[1] >= outer[1] - TOL_PX
            and inner[2] <= outer[2] + TOL_PX and inner[3] <= outer[3] + TOL_PX)


def _nested(a: Any, b: Any) -> bool:
    for inner, outer in ((a, b), (b, a)):
        p = inner.parent
        while p is not None and p is not Window:
            if p is outer:
                return True
            p = p.parent
    return False


def check_frame(screen: Any, name: str) -> list[str]:
    """The standard frame: 首页 (and 返回 except on home) visible, instructions shown."""
    problems = []
    shown = list(visible_widgets())  # ids are weak proxies: compare with ==, not id()
    nav = screen.ids.get("nav")
    if nav is None:
        return [f"{name}: no navigation bar"]
    if nav.ids["home"] not in shown:
        problems.append(f"{name}: no 首页 button")
    if name != "home" and nav.ids["back"] not in shown:
        problems.append(f"{name}: no 返回 button")
    label = screen.ids.get("instructions_label")
    if not screen.instructions.strip() or label is None or label not in shown:
        problems.append(f"{name}: no instruction text")
    return problems


def walk_steps(d: Any, app: Any, states: dict[str, Any], combos: list[tuple[str, bool]], problems: list[str],
               settle: int = 3) -> Iterator[None]:
    """For each (language, 大字) in `combos` and each screen in `states`: open the screen, run its
    state generator (it puts the screen in a state and yields a label), and collect the problems of
    `check_window` and `check_frame` at every label into `problems`. A driver scenario's generator."""
    for lang, large in combos:
        app.lang = lang
        app.theme.large_text = large
        for name, steps in states.items():
            app.go_home()
            app.navigate(name)
            yield from d.frames(2)
            screen = app.screen(name)
            for label in steps(screen):
                yield from d.frames(settle)
                where = f"[{name} {lang}{' 大字' if large else ''} {label}]"
                problems.extend(f"{where} {p}" for p in check_window(app.theme))
                problems.extend(f"{where} {p}" for p in check_frame(screen, name))
    app.go_home()
