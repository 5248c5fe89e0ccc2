"""Simple vector icons drawn with Kivy's canvas: no image files, sharp at any size.

Each icon is a function drawing into a unit box scaled to the widget; the
`Icon` widget (kiosk/widgets.py) calls `draw(kind, canvas, x, y, size, rgba)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from kivy.graphics import Color, Ellipse, Line, Rectangle, Triangle

Pt = Callable[[float, float], tuple[float, float]]


def _mic(p: Pt, s: float) -> None:
    w = s * 0.07
    x0, y0 = p(0.36, 0.42)
    x1, y1 = p(0.64, 0.9)
    Line(rounded_rectangle=(x0, y0, x1 - x0, y1 - y0, (x1 - x0) / 2), width=w)
    cx, cy = p(0.5, 0.5)
    Line(circle=(cx, cy, s * 0.27, 90, 270), width=w)
    Line(points=[*p(0.5, 0.23), *p(0.5, 0.08)], width=w)
    Line(points=[*p(0.32, 0.08), *p(0.68, 0.08)], width=w)


def _wrench(p: Pt, s: float) -> None:
    w = s * 0.1
    Line(points=[*p(0.18, 0.18), *p(0.6, 0.6)], width=w, cap="round")
    cx, cy = p(0.68, 0.68)
    Line(circle=(cx, cy, s * 0.2, 80, 370), width=s * 0.07)


def _parcel(p: Pt, s: float) -> None:
    w = s * 0.07
    x0, y0 = p(0.12, 0.15)
    x1, y1 = p(0.88, 0.8)
    Line(rectangle=(x0, y0, x1 - x0, y1 - y0), width=w)
    Line(points=[*p(0.12, 0.58), *p(0.88, 0.58)], width=w)
    Line(points=[*p(0.5, 0.8), *p(0.5, 0.58)], width=w)


def _heart(p: Pt, s: float) -> None:
    w = s * 0.07
    Line(bezier=[*p(0.5, 0.15), *p(0.0, 0.55), *p(0.2, 1.0), *p(0.5, 0.72)], width=w)
    Line(bezier=[*p(0.5, 0.15), *p(1.0, 0.55), *p(0.8, 1.0), *p(0.5, 0.72)], width=w)


def _list(p: Pt, s: float) -> None:
    w = s * 0.07
    for y in (0.25, 0.5, 0.75):
        cx, cy = p(0.18, y)
        Ellipse(pos=(cx - s * 0.06, cy - s * 0.06), size=(s * 0.12, s * 0.12))
        Line(points=[*p(0.35, y), *p(0.9, y)], width=w)


def _sos(p: Pt, s: float) -> None:
    w = s * 0.08
    Line(points=[*p(0.5, 0.92), *p(0.06, 0.12), *p(0.94, 0.12)], close=True, width=w, joint="round")
    Line(points=[*p(0.5, 0.68), *p(0.5, 0.38)], width=w, cap="round")
    cx, cy = p(0.5, 0.24)
    Ellipse(pos=(cx - s * 0.05, cy - s * 0.05), size=(s * 0.1, s * 0.1))


def _bell(p: Pt, s: float) -> None:
    w = s * 0.07
    Line(bezier=[*p(0.18, 0.3), *p(0.25, 1.05), *p(0.75, 1.05), *p(0.82, 0.3)], width=w)
    Line(points=[*p(0.1, 0.3), *p(0.9, 0.3)], width=w, cap="round")
    cx, cy = p(0.5, 0.16)
    Ellipse(pos=(cx - s * 0.08, cy - s * 0.08), size=(s * 0.16, s * 0.16))


def _gear(p: Pt, s: float) -> None:
    cx, cy = p(0.5, 0.5)
    Line(circle=(cx, cy, s * 0.25), width=s * 0.08)
    for i in range(8):
        a = i * math.pi / 4
        Line(points=[cx + math.cos(a) * s * 0.3, cy + math.sin(a) * s * 0.3,
                     cx + math.cos(a) * s * 0.44, cy + math.sin(a) * s * 0.44], width=s * 0.07)


def _back(p: Pt, s: float) -> None:
    w = s * 0.1
    Line(points=[*p(0.55, 0.18), *p(0.2, 0.5), *p(0.55, 0.82)], width=w, cap="round", joint="round")
    Line(points=[*p(0.2, 0.5), *p(0.85, 0.5)], width=w, cap="round")


def _home(p: Pt, s: float) -> None:
    w = s * 0.08
    Line(points=[*p(0.08, 0.5), *p(0.5, 0.9), *p(0.92, 0.5)], width=w, cap="round", joint="round")
    Line(points=[*p(0.2, 0.55), *p(0.2, 0.1), *p(0.8, 0.1), *p(0.8, 0.55)], width=w, joint="round")


def _check(p: Pt, s: float) -> None:
    Line(points=[*p(0.12, 0.5), *p(0.4, 0.2), *p(0.9, 0.82)], width=s * 0.12, cap="round", joint="round")


def _cross(p: Pt, s: float) -> None:
    w = s * 0.12
    Line(points=[*p(0.18, 0.18), *p(0.82, 0.82)], width=w, cap="round")
    Line(points=[*p(0.18, 0.82), *p(0.82, 0.18)], width=w, cap="round")


def _question(p: Pt, s: float) -> None:
    cx, cy = p(0.5, 0.66)
    Line(circle=(cx, cy, s * 0.2, -90, 160), width=s * 0.1)
    Line(points=[*p(0.5, 0.46), *p(0.5, 0.32)], width=s * 0.1)
    cx, cy = p(0.5, 0.12)
    Ellipse(pos=(cx - s * 0.07, cy - s * 0.07), size=(s * 0.14, s * 0.14))


def _text(p: Pt, s: float) -> None:
    w = s * 0.09
    Line(points=[*p(0.1, 0.1), *p(0.4, 0.9), *p(0.7, 0.1)], width=w, joint="round")
    Line(points=[*p(0.22, 0.4), *p(0.58, 0.4)], width=w)
    Triangle(points=[*p(0.72, 0.6), *p(0.96, 0.6), *p(0.84, 0.85)])


def _globe(p: Pt, s: float) -> None:
    w = s * 0.07
    cx, cy = p(0.5, 0.5)
    Line(circle=(cx, cy, s * 0.4), width=w)
    Line(ellipse=(cx - s * 0.17, cy - s * 0.4, s * 0.34, s * 0.8), width=w)
    Line(points=[*p(0.1, 0.5), *p(0.9, 0.5)], width=w)


def _door(p: Pt, s: float) -> None:
    w = s * 0.08
    x0, y0 = p(0.25, 0.08)
    x1, y1 = p(0.75, 0.92)
    Line(rectangle=(x0, y0, x1 - x0, y1 - y0), width=w)
    cx, cy = p(0.62, 0.5)
    Ellipse(pos=(cx - s * 0.05, cy - s * 0.05), size=(s * 0.1, s * 0.1))


def _phone(p: Pt, s: float) -> None:
    w = s * 0.08
    x0, y0 = p(0.3, 0.06)
    x1, y1 = p(0.7, 0.94)
    Line(rounded_rectangle=(x0, y0, x1 - x0, y1 - y0, s * 0.06), width=w)
    x0, y0 = p(0.44, 0.14)
    Rectangle(pos=(x0, y0), size=(s * 0.12, s * 0.06))


_ICONS: dict[str, Callable[[Pt, float], None]] = {
    "mic": _mic, "wrench": _wrench, "parcel": _parcel, "heart": _heart, "list": _list,
    "sos": _sos, "bell": _bell, "gear": _gear, "back": _back, "home": _home, "check": _check,
    "cross": _cross, "question": _question, "text": _text, "globe": _globe, "door": _door,
    "phone": _phone,
}
KINDS = tuple(sorted(_ICONS))


def draw(kind: str, canvas, x: float, y: float, size: float, rgba) -> None:
    """Draw icon `kind` in the square (x, y, size) with colour rgba; unknown kinds draw '?'."""
    canvas.clear()
    if not kind or size <= 0:
        return

    def p(u: float, v: float) -> tuple[float, float]:
        return x + u * size, y + v * size

    with canvas:
        Color(*rgba)
        _ICONS.get(kind, _question)(p, size)
