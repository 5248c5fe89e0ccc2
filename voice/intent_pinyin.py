"""Pinyin for the intent parser: homophone-tolerant, dialect-tolerant matching keys.

Vosk writes what it heard, so a request often arrives with the right sounds
but the wrong characters (修等 for 修灯, 电题 for 电梯). Matching on pinyin
catches those. Characters of the heard text get their usual reading; keywords
get their reading as a phrase and, where it differs, the usual reading of
each character, so a heteronym matches either way. Both are folded by
`fuzzy()` into the sounds that many speakers (and so vosk) do not tell
apart: zh/z, ch/c, sh/s, n/l, f/h, -ng/-n.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin


def fuzzy(syllable: str) -> str:
    """Fold a toneless syllable into its fuzzy class (zhi -> zi, neng -> len, fu -> hu)."""
    s = syllable
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    elif s[:1] == "n" and s != "n" and s != "ng":
        s = "l" + s[1:]
    elif s[:1] == "f":
        s = "h" + s[1:]
    if len(s) > 2 and s.endswith("ng") and not s.endswith("ong"):
        s = s[:-1]
    return s


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


MAX_VARIANTS = 4


def term_syllables(text: str) -> tuple[tuple[str, ...], ...]:
    """Fuzzy syllables of a keyword, one per character; non-Chinese characters stand for themselves.

    The first variant is the keyword read as a phrase (着火 zhao huo); where a
    character read alone sounds different (着 zhe), that reading is a second
    variant, because the heard text is read one character at a time (这火 for
    着火). At most MAX_VARIANTS.
    """
    plain = lazy_pinyin(text, style=Style.NORMAL, errors=lambda run: list(run))
    if len(plain) != len(text):  # pypinyin merged or split something: fall back to one char at a time
        plain = [lazy_pinyin(ch, style=Style.NORMAL)[0] if _is_han(ch) else ch for ch in text]
    first = tuple(fuzzy(p) if _is_han(ch) else ch for p, ch in zip(plain, text, strict=True))
    variants = [first]
    for i, ch in enumerate(text):
        alone = next(iter(char_readings(ch)))
        if alone != first[i]:
            for v in list(variants):
                if len(variants) < MAX_VARIANTS:
                    variants.append(v[:i] + (alone,) + v[i + 1:])
    return tuple(variants)


@lru_cache(maxsize=16384)
def char_readings(ch: str) -> frozenset[str]:
    """The fuzzy reading of one character of heard text, read alone (non-Chinese: itself).

    Only the usual reading: rarer ones (比 pi, 那 nai) make false matches.
    Keywords carry the other readings that matter (see term_syllables).
    """
    if not _is_han(ch):
        return frozenset((ch,))
    return frozenset((fuzzy(pinyin(ch, style=Style.NORMAL)[0][0]),))


def text_readings(text: str) -> list[frozenset[str]]:
    """`char_readings` for each character of `text`."""
    return [char_readings(ch) for ch in text]
