"""Text clean-up for the intent parser: the same steps for heard text and for keywords.

Vosk puts spaces between words, people pad requests with filler (那个, 就是,
哎呀我跟你说) and say things in dialect (冇水, 灯瞎了). `Normaliser` removes
what carries no meaning and rewrites variants into one form, so keywords need
to be written only once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# Kept: Chinese characters, ASCII letters and digits, and the dash of a room
# number (3-2-301). Everything else (punctuation, emoji, spaces) is dropped.
_DROP = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fffa-z0-9\-]+")


def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `words`, longest first; None when there are none."""
    ordered = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


class Normaliser:
    """Turns raw text into the form keywords are matched against."""

    def __init__(self, fillers: Iterable[str], variants: Mapping[str, str],
                 traditional: Mapping[str, str] | None = None) -> None:
        self._script = str.maketrans(dict(traditional or {}))
        self._fillers = _alternation(fillers)
        self._variants = dict(variants)
        self._variant_re = _alternation(self._variants)

    def clean(self, text: str) -> str:
        """Width-fold, lower-case, traditional characters to simplified, and drop everything but
        characters, letters and digits."""
        return _DROP.sub("", unicodedata.normalize("NFKC", text).lower().translate(self._script))

    def __call__(self, text: str) -> str:
        """The normalised text: cleaned, fillers removed, variants rewritten."""
        text = self.clean(text)
        if self._fillers is not None:
            text = self._fillers.sub("", text)
        if self._variant_re is not None:
            text = self._variant_re.sub(lambda m: self._variants[m.group(0)], text)
        return text


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS)


def chinese_number(text: str) -> str | None:
    """Digits for a number said in Chinese: 三百零一 -> 301, 三零一 -> 301, 十八 -> 18.

    Arabic digits pass through; anything that is not a number gives None.
    """
    if text.isdigit():
        return text
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    if not any(ch in _CN_UNITS for ch in text):  # said digit by digit
        return "".join(str(_CN_DIGITS[ch]) for ch in text)
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return str(total + (digit or 0))
