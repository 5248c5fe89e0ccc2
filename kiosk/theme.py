"""The kiosk's look, in physical units: millimetres for the configured panel, WCAG contrast.

Every screen takes its sizes and colours from one `Theme` (in kv: `app.theme`),
so the age-friendly rules (docs/kiosk.md) hold everywhere by construction:

- text: body line height >= 8 mm (Kivy's line height is 1.2 x font size with
  the Chinese font), 大字 mode multiplies every text size by 1.5;
- touch targets >= 15 mm with >= 3 mm between them, main buttons far larger;
- every foreground/background pair >= 7:1 (WCAG 2 contrast ratio);
- colour never carries meaning alone: status has a symbol and words too.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty

LINE_HEIGHT_RATIO = 1.2  # Kivy's single-line texture height / font_size (measured with wqy-microhei)
MIN_BODY_LINE_MM = 8.0
MIN_TARGET_MM = 15.0
MIN_GAP_MM = 3.0
MIN_CONTRAST = 7.0
LARGE_TEXT_FACTOR = 1.5
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # face 0 is Simplified Chinese
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


def hex_rgba(value: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """'#RRGGBB' -> Kivy colour (r, g, b, a) in 0..1."""
    v = value.lstrip("#")
    return (int(v[0:2], 16) / 255, int(v[2:4], 16) / 255, int(v[4:6], 16) / 255, alpha)


def relative_luminance(rgba: tuple[float, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0..1 floats."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio (1..21) between two opaque colours."""
    a, b = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


@dataclass(frozen=True)
class Pair:
    """A foreground colour and the background it is drawn on."""

    fg: tuple[float, float, float, float]
    bg: tuple[float, float, float, float]

    @property
    def contrast(self) -> float:
        return contrast_ratio(self.fg, self.bg)


INK = hex_rgba("#141414")
PAPER = hex_rgba("#FFFFFF")
WHITE = hex_rgba("#FFFFFF")

# Every pair used on screen. Tests check each >= 7:1; the accessibility walk
# checks what is actually drawn.
PAIRS: dict[str, Pair] = {
    "base": Pair(INK, PAPER),                                  # body text on the page
    "surface": Pair(INK, hex_rgba("#EEF0F3")),                 # cards, bars
    "primary": Pair(WHITE, hex_rgba("#0B3D91")),               # main action buttons
    "secondary": Pair(hex_rgba("#0B2E6B"), hex_rgba("#DCE6F5")),  # navigation, switches
    "danger": Pair(WHITE, hex_rgba("#9B0000")),                # emergency, offline
    "ok": Pair(WHITE, hex_rgba("#0B5D1E")),                    # online, done
    "warn": Pair(INK, hex_rgba("#FFC928")),                    # unavailable notices, unknown
    "disabled": Pair(hex_rgba("#2E2E2E"), hex_rgba("#D0D0D0")),  # a button that cannot be used now
    "notice": Pair(INK, hex_rgba("#FFF1B8")),                  # high-priority notice banner
}


def find_font(font_file: str | None = None) -> str | None:
    """The configured font file, else the first Simplified-Chinese font installed."""
    for path in (font_file, *FONT_FILES):
        if path and os.path.isfile(path):
            return path
    return None


def register_font(font_file: str | None = None) -> str | None:
    """Make the Chinese font Kivy's default (every Label uses it); returns its path."""
    from kivy.core.text import DEFAULT_FONT, LabelBase  # noqa: PLC0415 - needs the window set up

    path = find_font(font_file)
    if path:
        LabelBase.register(DEFAULT_FONT, path)
    return path


class Theme(EventDispatcher):
    """Sizes (px) computed from millimetres on the configured panel, and the colour pairs.

    `px_per_mm` comes from ui.size and ui.diagonal_in (Kivy's headless density is 1,
    so one Kivy pixel is one panel pixel). Text sizes follow `large_text`.
    """

    px_per_mm = NumericProperty(4.0)
    large_text = BooleanProperty(False)
    text_scale = NumericProperty(1.0)

    font_small = NumericProperty(0)   # secondary text (still >= the body minimum)
    font_body = NumericProperty(0)    # body text: line height >= 8 mm
    font_button = NumericProperty(0)  # words on buttons
    font_title = NumericProperty(0)   # screen titles
    font_huge = NumericProperty(0)    # tickets, compartments, readings

    target = NumericProperty(0)       # minimum touch target (15 mm)
    gap = NumericProperty(0)          # minimum gap between targets (3 mm)
    pad = NumericProperty(0)          # page margin
    nav_height = NumericProperty(0)   # top bar with 返回 / 首页
    button_height = NumericProperty(0)  # an ordinary action button
    icon_size = NumericProperty(0)
    radius = NumericProperty(0)

    def __init__(self, px_per_mm: float = 4.0, large_text: bool = False, **kw) -> None:
        super().__init__(**kw)
        self.bind(px_per_mm=self._recompute, large_text=self._recompute)
        self.px_per_mm = px_per_mm
        self.large_text = large_text
        self._recompute()

    @classmethod
    def for_panel(cls, size: tuple[int, int], diagonal_in: float, large_text: bool = False) -> Theme:
        """Theme for a panel of `size` pixels and `diagonal_in` inches."""
        w, h = size
        return cls(px_per_mm=((w * w + h * h) ** 0.5) / (diagonal_in * 25.4), large_text=large_text)

    def font_sizes(self) -> list[float]:
        """Every text size of the theme in both normal and 大字 mode (to warm the font cache)."""
        sizes = set()
        for factor in (1.0, LARGE_TEXT_FACTOR):
            for mm_size in (7.2, 8.0, 10.0, 26.0):
                sizes.add(round(self.mm(mm_size) * factor))
            sizes.add(math.ceil(self.mm(MIN_BODY_LINE_MM) / LINE_HEIGHT_RATIO * factor))
        return sorted(sizes)

    def mm(self, n: float) -> float:
        """Millimetres on the panel -> pixels."""
        return n * self.px_per_mm

    def px_to_mm(self, px: float) -> float:
        """Pixels -> millimetres on the panel."""
        return px / self.px_per_mm

    def pair(self, name: str) -> Pair:
        """A named colour pair (KeyError for an unknown name)."""
        return PAIRS[name]

    def fg(self, name: str) -> tuple[float, float, float, float]:
        return PAIRS[name].fg

    def bg(self, name: str) -> tuple[float, float, float, float]:
        return PAIRS[name].bg

    @property
    def min_font_px(self) -> float:
        """Smallest allowed font size in px: body line height of 8 mm (x1.5 in 大字)."""
        return self.mm(MIN_BODY_LINE_MM) / LINE_HEIGHT_RATIO * self.text_scale

    def _recompute(self, *_args) -> None:
        s = LARGE_TEXT_FACTOR if self.large_text else 1.0
        self.text_scale = s
        # whole pixels: every distinct size is a font the renderer opens once (slowly), so fewer is better
        self.font_small = math.ceil(self.mm(MIN_BODY_LINE_MM) / LINE_HEIGHT_RATIO * s)
        self.font_body = max(self.font_small, round(self.mm(7.2) * s))
        self.font_button = round(self.mm(8.0) * s)
        self.font_title = round(self.mm(10.0) * s)
        self.font_huge = round(self.mm(26.0) * s)
        self.target = self.mm(MIN_TARGET_MM)
        self.gap = self.mm(MIN_GAP_MM + 1)
        self.pad = self.mm(6)
        self.nav_height = max(self.mm(22), self.font_button * LINE_HEIGHT_RATIO + self.mm(6))
        self.button_height = max(self.mm(24), self.font_button * LINE_HEIGHT_RATIO * 2 + self.mm(6))
        self.icon_size = self.mm(16)
        self.radius = self.mm(3)
