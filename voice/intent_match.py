"""Finding vocabulary keywords in normalised text: by characters, by pinyin, minus negations.

`TermIndex` is built once per vocabulary. `find()` returns the matches that
count: the longest word wins where words overlap (楼道灯 over 灯), a word
matched by its characters wins over one matched only by sound, and a word
right after a negation (不是漏水, 没摔倒) is dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace

from voice.intent_pinyin import text_readings
from voice.vocabulary import Negation, Term

# A keyword heard only by its sound counts this much of one read by characters.
PINYIN_FACTOR = 0.7
# A danger word talked about as a risk (容易着火) counts this much, as a hazard.
HAZARD_FACTOR = 1.0
# Little words people slip into a phrase (爬到窗台, 洗个澡, 楼道的灯). Not 一: 倒一下 is not 倒下.
# Keywords without them are also looked for in the text with them taken out.
SLIPPED = frozenset("了的得地个到在着过")


@dataclass(frozen=True)
class Match:
    """One keyword found in the text at [start, end)."""

    start: int
    end: int
    term: Term
    exact: bool

    @property
    def weight(self) -> float:
        return self.term.weight * (1.0 if self.exact else PINYIN_FACTOR)


class TermIndex:
    """Lookup tables for every keyword of a vocabulary, by text and by its first two syllables."""

    def __init__(self, terms: tuple[Term, ...], negation: Negation, not_by_sound: tuple[str, ...] = ()) -> None:
        self._by_text: dict[str, list[Term]] = defaultdict(list)
        self._by_pair: dict[tuple[str, str], list[tuple[tuple[str, ...], Term]]] = defaultdict(list)
        for term in terms:
            self._by_text[term.text].append(term)
            if len(term.text) >= 2:  # one syllable alone is too ambiguous to match by sound
                for syllables in term.syllables:
                    self._by_pair[syllables[0], syllables[1]].append((syllables, term))
        self._lengths = sorted({len(t) for t in self._by_text}, reverse=True)
        self._slip_free = {t for t in self._by_text if len(t) >= 2 and not SLIPPED.intersection(t)}
        self._negation = negation
        self._not_by_sound = frozenset(not_by_sound)
        self._cues = _alternation(negation.cues)
        self._exceptions = _alternation(negation.exceptions)
        self._breaks = _alternation(negation.breaks)

    def find(self, text: str) -> tuple[list[Match], list[tuple[int, int]]]:
        """The matches that count, and the spans of the text that are negated.

        A match after a plain negation (不是漏水) is dropped. A danger word after
        a hypothetical cue (容易着火, 防止摔倒) becomes a hazard: it still points
        to its category, at urgency "high" instead of "urgent"; other words
        after such a cue count as usual.
        """
        matches = _select(self._candidates(text))
        negated, hazards = self._negated_spans(text, matches)
        kept: list[Match] = []
        for m in matches:
            if any(a <= m.start < b for a, b in hazards):
                kept.append(replace(m, term=_as_hazard(m.term)) if m.term.danger else m)
            elif not any(a <= m.start < b for a, b in negated):
                kept.append(m)
        return kept, negated + hazards

    def _candidates(self, text: str) -> list[Match]:
        """Every keyword occurrence, by characters and by sound, overlapping or not."""
        out: list[Match] = []
        n = len(text)
        for i in range(n):
            for length in self._lengths:
                if i + length <= n:
                    for term in self._by_text.get(text[i:i + length], ()):
                        out.append(Match(i, i + length, term, True))
        out += self._slipped_candidates(text)
        if not self._by_pair or n < 2:
            return out
        readings = text_readings(text)
        found: set[tuple[int, int, Term]] = set()
        for i in range(n - 1):
            for a in readings[i]:
                for b in readings[i + 1]:
                    for syllables, term in self._by_pair.get((a, b), ()):
                        end = i + len(syllables)
                        heard = text[i:end]
                        if (end <= n and heard != term.text and heard not in self._not_by_sound
                                and (i, end, term) not in found and _plausible(heard, term.text, term.danger)
                                and all(s in readings[i + k] for k, s in enumerate(syllables[2:], 2))):
                            found.add((i, end, term))
                            out.append(Match(i, end, term, False))
        return out

    def said(self, text: str, negated: list[tuple[int, int]]) -> tuple[dict[str, int], set[str]]:
        """Words said outside every negated span, by characters or sound (with their first
        position), and words written in the text at all (by characters only, negated or not).
        Overlaps are kept: 楼道 and 楼道灯 are both said."""
        said: dict[str, int] = {}
        anywhere: set[str] = set()
        for m in sorted(self._candidates(text), key=lambda m: m.start):
            if m.exact:
                anywhere.add(m.term.text)
            if m.term.text not in said and not any(a <= m.start < b for a, b in negated):
                said[m.term.text] = m.start
        return said, anywhere

    def _slipped_candidates(self, text: str) -> list[Match]:
        """Keywords found once the little words are taken out, with their spans in `text`."""
        where = [i for i, ch in enumerate(text) if ch not in SLIPPED]
        if len(where) == len(text):
            return []
        compact = "".join(text[i] for i in where)
        out: list[Match] = []
        n = len(compact)
        for i in range(n):
            for length in self._lengths:
                if i + length <= n:
                    word = compact[i:i + length]
                    if word in self._slip_free:
                        start, end = where[i], where[i + length - 1] + 1
                        if end - start > length:  # something was slipped in: not a plain match
                            out += [Match(start, end, term, True) for term in self._by_text[word]]
        return out

    def _negated_spans(self, text: str, matches: list[Match]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Spans negated by a cue (the first keyword within its reach, or the next character),
        split into plain negations and hypothetical ones."""
        if self._cues is None:
            return [], []
        excepted = _covered(text, self._exceptions)
        spans_of = [(m.start, m.end) for m in matches]
        spans: list[tuple[int, int]] = []
        hazards: list[tuple[int, int]] = []
        for cue in self._cues.finditer(text):
            if cue.start() in excepted or any(a <= cue.start() and cue.end() <= b for a, b in spans_of):
                continue  # part of 不小心, or inside a keyword that says the negation itself (没热水)
            reach = cue.end() + (self._negation.window if len(cue.group()) > 1 else 0)
            if self._breaks is not None:
                brk = self._breaks.search(text, cue.end())
                if brk is not None:
                    reach = min(reach, brk.start() - 1)
            first = min((m for m in matches if cue.end() <= m.start <= reach), key=lambda m: m.start, default=None)
            into = hazards if cue.group() in self._negation.hypothetical else spans
            if first is not None:   # the keyword and any word said between it and the cue
                into.append((cue.end(), first.end))
            elif len(cue.group()) > 1 and cue.end() < len(text):
                # no keyword in reach: what follows is negated up to the reach (不是有味儿: 味 is not said)
                into.append((cue.end(), min(len(text), reach + 1)))
            elif cue.end() < len(text):
                into.append((cue.end(), cue.end() + 1))
        return spans, hazards


def _as_hazard(term: Term) -> Term:
    return replace(term, weight=term.weight * HAZARD_FACTOR, urgency="high", danger=False, decides=False)


def _plausible(heard: str, word: str, danger: bool = False) -> bool:
    """A sound-alike must share one real character with the word (修等 ~ 修灯, 煤汽味 ~ 煤气味).

    Syllables alone collide too often across the language (叫不醒 ~ 脚不行);
    one right character plus homophones is what recognition errors look like.
    A function word in place of a keyword's character is grammar, not a
    mis-hearing (个破 is not 割破) -- except for danger words, where missing
    one (就命 for 救命) is worse than a false alarm.
    """
    pairs = list(zip(heard, word, strict=True))
    return (any(h == w and w not in _PARTICLES for h, w in pairs)
            and (danger or not any(h != w and h in _FUNCTION for h, w in pairs)))


# Characters too common to count as the shared one (运了 is not 晕了).
_PARTICLES = frozenset("了的得地过吗呢啊吧子儿个一不是有在和也就都把被给")
# Function words: a sound-alike that differs from the keyword by one of these is not one.
_FUNCTION = frozenset("个了的着过是一不有在和也就都吗呢吧啊把被给")


def _select(candidates: list[Match]) -> list[Match]:
    """Keep the longest matches that do not overlap; equal spans (one word, several topics) all stay."""
    # longest keyword first (a slipped match counts by its keyword, not its span), characters before sound
    candidates.sort(key=lambda m: (-len(m.term.text), not m.exact, -m.term.weight))
    taken: set[int] = set()
    spans: dict[tuple[int, int], bool] = {}  # span -> matched by characters
    kept: list[Match] = []
    for m in candidates:
        span = (m.start, m.end)
        if span in spans:
            if m.exact or not spans[span]:
                kept.append(m)
            continue
        if any(i in taken for i in range(m.start, m.end)):
            continue
        taken.update(range(m.start, m.end))
        spans[span] = m.exact
        kept.append(m)
    kept.sort(key=lambda m: m.start)
    return kept


def _alternation(words: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(map(re.escape, words))) if words else None


def _covered(text: str, pattern: re.Pattern[str] | None) -> set[int]:
    """Positions of `text` inside an occurrence of `pattern`."""
    if pattern is None:
        return set()
    return {i for m in pattern.finditer(text) for i in range(m.start(), m.end())}
