"""Pictures for the touch-repair categories and problems, drawn as vectors like kiosk/icons.py.

`RepairPicture(kind=...)` draws one of PICTURES; any other kind is handed to
kiosk.icons (CORE's set), which draws '?' for what it does not know. A test
checks that every icon named in assets/repair_catalog.json is drawable here.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.properties import ListProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk import icons

Pt = Callable[[float, float], tuple[float, float]]


def _box(p: Pt, x0: float, y0: float, x1: float, y1: float, w: float) -> None:
    a, b = p(x0, y0)
    c, d = p(x1, y1)
    Line(rectangle=(a, b, c - a, d - b), width=w)


def _dot(p: Pt, x: float, y: float, r: float) -> None:
    cx, cy = p(x, y)
    Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))


def _water(p: Pt, s: float) -> None:
    Line(bezier=[*p(0.5, 0.92), *p(0.1, 0.35), *p(0.3, 0.05), *p(0.5, 0.08)], width=s * 0.07)
    Line(bezier=[*p(0.5, 0.92), *p(0.9, 0.35), *p(0.7, 0.05), *p(0.5, 0.08)], width=s * 0.07)


def _light(p: Pt, s: float) -> None:
    cx, cy = p(0.5, 0.6)
    Line(circle=(cx, cy, s * 0.28, -140, 140), width=s * 0.07)
    _box(p, 0.38, 0.1, 0.62, 0.3, s * 0.06)


def _power(p: Pt, s: float) -> None:
    Line(points=[*p(0.6, 0.95), *p(0.28, 0.48), *p(0.55, 0.48), *p(0.4, 0.05), *p(0.75, 0.58),
                 *p(0.48, 0.58), *p(0.6, 0.95)], width=s * 0.06, joint="round")


def _fire(p: Pt, s: float) -> None:
    Line(bezier=[*p(0.5, 0.05), *p(0.05, 0.2), *p(0.3, 0.7), *p(0.5, 0.95)], width=s * 0.07)
    Line(bezier=[*p(0.5, 0.05), *p(0.95, 0.2), *p(0.7, 0.6), *p(0.62, 0.7)], width=s * 0.07)


def _gas(p: Pt, s: float) -> None:
    _box(p, 0.25, 0.05, 0.75, 0.7, s * 0.07)
    _box(p, 0.4, 0.7, 0.6, 0.85, s * 0.06)
    for x in (0.3, 0.5, 0.7):
        Line(bezier=[*p(x, 0.88), *p(x - 0.08, 0.93), *p(x + 0.08, 0.97), *p(x, 1.0)], width=s * 0.04)


def _elevator(p: Pt, s: float) -> None:
    _box(p, 0.15, 0.05, 0.85, 0.95, s * 0.07)
    Line(points=[*p(0.5, 0.05), *p(0.5, 0.95)], width=s * 0.05)
    Line(points=[*p(0.25, 0.6), *p(0.33, 0.75), *p(0.41, 0.6)], width=s * 0.05)
    Line(points=[*p(0.59, 0.75), *p(0.67, 0.6), *p(0.75, 0.75)], width=s * 0.05)


def _trash(p: Pt, s: float) -> None:
    Line(points=[*p(0.22, 0.78), *p(0.3, 0.05), *p(0.7, 0.05), *p(0.78, 0.78)], width=s * 0.07, joint="round")
    Line(points=[*p(0.12, 0.8), *p(0.88, 0.8)], width=s * 0.07, cap="round")
    _box(p, 0.4, 0.8, 0.6, 0.92, s * 0.05)


def _medical(p: Pt, s: float) -> None:
    x, y = p(0.38, 0.1)
    Rectangle(pos=(x, y), size=(s * 0.24, s * 0.8))
    x, y = p(0.1, 0.38)
    Rectangle(pos=(x, y), size=(s * 0.8, s * 0.24))


def _person(p: Pt, s: float) -> None:
    cx, cy = p(0.5, 0.8)
    Line(circle=(cx, cy, s * 0.13), width=s * 0.07)
    Line(points=[*p(0.2, 0.05), *p(0.2, 0.35), *p(0.35, 0.58), *p(0.65, 0.58), *p(0.8, 0.35), *p(0.8, 0.05)],
         width=s * 0.07, joint="round")


def _parking(p: Pt, s: float) -> None:
    _box(p, 0.08, 0.08, 0.92, 0.92, s * 0.06)
    Line(points=[*p(0.38, 0.22), *p(0.38, 0.78), *p(0.58, 0.78)], width=s * 0.08, joint="round")
    cx, cy = p(0.58, 0.64)
    Line(circle=(cx, cy, s * 0.14, 0, 180), width=s * 0.08)
    Line(points=[*p(0.38, 0.5), *p(0.58, 0.5)], width=s * 0.08)


def _car(p: Pt, s: float) -> None:
    _box(p, 0.08, 0.25, 0.92, 0.5, s * 0.07)
    Line(points=[*p(0.22, 0.5), *p(0.32, 0.75), *p(0.68, 0.75), *p(0.78, 0.5)], width=s * 0.07)
    for x in (0.28, 0.72):
        cx, cy = p(x, 0.2)
        Line(circle=(cx, cy, s * 0.09), width=s * 0.06)


def _noise(p: Pt, s: float) -> None:
    Line(points=[*p(0.08, 0.38), *p(0.25, 0.38), *p(0.45, 0.2), *p(0.45, 0.8), *p(0.25, 0.62),
                 *p(0.08, 0.62)], close=True, width=s * 0.06, joint="round")
    for r in (0.18, 0.32):
        cx, cy = p(0.48, 0.5)
        Line(circle=(cx, cy, s * r, 45, 135), width=s * 0.05)


def _document(p: Pt, s: float) -> None:
    _box(p, 0.2, 0.05, 0.8, 0.95, s * 0.07)
    for y in (0.3, 0.5, 0.7):
        Line(points=[*p(0.32, y), *p(0.68, y)], width=s * 0.05)


def _star(p: Pt, s: float) -> None:
    pts = [(0.5, 0.95), (0.62, 0.62), (0.95, 0.62), (0.68, 0.4), (0.8, 0.06), (0.5, 0.27),
           (0.2, 0.06), (0.32, 0.4), (0.05, 0.62), (0.38, 0.62)]
    Line(points=[c for pt in pts for c in p(*pt)], close=True, width=s * 0.06, joint="round")


def _dots(p: Pt, s: float) -> None:
    for x in (0.2, 0.5, 0.8):
        _dot(p, x, 0.5, s * 0.09)


def _building(p: Pt, s: float) -> None:
    _box(p, 0.2, 0.05, 0.8, 0.95, s * 0.07)
    for x in (0.35, 0.65):
        for y in (0.3, 0.55, 0.8):
            _dot(p, x, y, s * 0.05)


def _tree(p: Pt, s: float) -> None:
    cx, cy = p(0.5, 0.62)
    Line(circle=(cx, cy, s * 0.3), width=s * 0.07)
    Line(points=[*p(0.5, 0.32), *p(0.5, 0.05)], width=s * 0.08)


def _bowl(p: Pt, s: float) -> None:
    cx, cy = p(0.5, 0.55)
    Line(circle=(cx, cy, s * 0.38, 90, 270), width=s * 0.07)
    Line(points=[*p(0.08, 0.55), *p(0.92, 0.55)], width=s * 0.07)
    Line(points=[*p(0.6, 0.65), *p(0.85, 0.95)], width=s * 0.05)


def _cuff(p: Pt, s: float) -> None:
    # an upper arm (two lines) with the cuff as a band around it and its tube
    Line(points=[*p(0.3, 0.95), *p(0.35, 0.05)], width=s * 0.05)
    Line(points=[*p(0.62, 0.95), *p(0.62, 0.05)], width=s * 0.05)
    _box(p, 0.22, 0.45, 0.72, 0.75, s * 0.07)
    Line(bezier=[*p(0.72, 0.6), *p(0.95, 0.6), *p(0.95, 0.2), *p(0.8, 0.1)], width=s * 0.05)


def _finger(p: Pt, s: float) -> None:
    # the cuff band with one finger slid under it
    _box(p, 0.1, 0.35, 0.9, 0.65, s * 0.07)
    Line(points=[*p(0.5, 0.05), *p(0.5, 0.55)], width=s * 0.12, cap="round")


def _chair(p: Pt, s: float) -> None:
    # a person sitting at a table, arm resting on it
    cx, cy = p(0.3, 0.85)
    Line(circle=(cx, cy, s * 0.1), width=s * 0.06)
    Line(points=[*p(0.3, 0.75), *p(0.3, 0.4), *p(0.55, 0.4), *p(0.55, 0.05)], width=s * 0.07, joint="round")
    Line(points=[*p(0.3, 0.65), *p(0.7, 0.55)], width=s * 0.06)
    Line(points=[*p(0.6, 0.52), *p(0.95, 0.52)], width=s * 0.07)
    Line(points=[*p(0.85, 0.52), *p(0.85, 0.05)], width=s * 0.06)


_PICTURES: dict[str, Callable[[Pt, float], None]] = {
    "water": _water, "light": _light, "power": _power, "fire": _fire, "gas": _gas,
    "elevator": _elevator, "trash": _trash, "medical": _medical, "person": _person,
    "parking": _parking, "car": _car, "noise": _noise, "document": _document, "star": _star,
    "dots": _dots, "building": _building, "tree": _tree, "bowl": _bowl, "cuff": _cuff,
    "finger": _finger, "chair": _chair,
}
PICTURES = tuple(sorted(_PICTURES))


def drawable(kind: str) -> bool:
    """True when `kind` is drawn here or by kiosk.icons (not as the '?' fallback)."""
    return kind in _PICTURES or kind in icons.KINDS


def draw(kind: str, canvas, x: float, y: float, size: float, rgba) -> None:
    """Draw picture `kind` in the square (x, y, size); unknown kinds go to kiosk.icons."""
    if kind not in _PICTURES:
        icons.draw(kind, canvas, x, y, size, rgba)
        return
    canvas.clear()
    if size <= 0:
        return

    def p(u: float, v: float) -> tuple[float, float]:
        return x + u * size, y + v * size

    with canvas:
        Color(*rgba)
        _PICTURES[kind](p, size)


class RepairPicture(Widget):
    """A category or problem picture of `kind`, drawn in `color`, centred and square."""

    kind = StringProperty("")
    color = ListProperty([0, 0, 0, 1])

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.bind(pos=self._redraw, size=self._redraw, kind=self._redraw, color=self._redraw)

    def _redraw(self, *_args) -> None:
        s = min(self.width, self.height)
        draw(self.kind, self.canvas, self.center_x - s / 2, self.center_y - s / 2, s, self.color)
