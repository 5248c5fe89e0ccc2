"""The "需求翻译机": what a resident said -> a categorised request with an urgency.

`parse(text)` takes a transcript (vosk output, spaces and all) and returns an
`Intent`: category and urgency codes of the central API, a short summary for
staff, the location if one was said, tags, a confidence and its tier:

- high   -> the kiosk asks for one tap to confirm;
- medium -> it asks back "您是说……吗？" with `alternatives` (the two most
            likely readings) as big buttons;
- low    -> category "other" with the transcript kept, never a confident
            wrong guess.

All knowledge of words is in assets/vocabulary.toml (see docs/intent.md); it is
loaded once, on first use. `IntentParser` parses with any vocabulary.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice import vocabulary as vocab_mod
from voice.intent_location import location as find_location
from voice.intent_match import Match, TermIndex
from voice.intent_pinyin import term_syllables
from voice.vocabulary import FALLBACK_CATEGORY, URGENCIES, Combo, Term, Vocabulary

TIERS = ("high", "medium", "low")
HIGH_CONFIDENCE = 0.6       # at or above: one tap to confirm
MEDIUM_CONFIDENCE = 0.3     # at or above: ask back with two readings; below: "other"
MARGIN_FLOOR = 0.15         # share of the confidence kept when the runner-up ties (0.35 before issue #5)
MIN_EVIDENCE = 0.45         # below this many points nothing was understood: tier low
CONTEXT_WEIGHT = 0.3        # context words (家里, 楼道 ...) said, for a category that already matched
MAX_INPUT_CHARS = 400       # raw characters read (vosk spacing doubles them); the rest is ignored
MAX_ANALYSED_CHARS = 160    # normalised characters looked at (15 s of speech is about 75)
SUMMARY_TEXT_CHARS = 20     # of the transcript, in the summary of a request not understood
# A-not-A questions said with any verb (休息不休息, 收不收费, 符合不符合): like a `questions` word
_A_NOT_A = re.compile(r"(.{1,2})[不没]\1")
_REQUEST_A_NOT_A = ("能", "可", "行", "好", "可以", "开", "得")   # 能不能修: a request; 开不开 (Wu): will not open; 不得了


@dataclass
class Intent:
    """One reading of a request. `alternatives` are the readings considered, best first."""

    category: str
    urgency: str
    summary: str
    location: str | None
    tags: list[str]
    confidence: float
    tier: str
    alternatives: list[Intent] = field(default_factory=list)
    transcript: str = ""
    category_name: str = ""

    def to_dict(self, full: bool = True) -> dict[str, Any]:
        """JSON-ready dict; `full=False` gives only the batch-evaluation keys."""
        out: dict[str, Any] = {
            "category": self.category, "urgency": self.urgency, "summary": self.summary,
            "location": self.location, "tags": list(self.tags), "confidence": round(self.confidence, 3),
        }
        if full:
            out.update(tier=self.tier, category_name=self.category_name, transcript=self.transcript,
                       alternatives=[a.to_dict(full=False) | {"category_name": a.category_name}
                                     for a in self.alternatives])
        return out


@dataclass
class _Evidence:
    """What was found for one category."""

    score: float = 0.0
    labels: dict[str, float] = field(default_factory=dict)   # topic label -> weight
    leading: set[str] = field(default_factory=set)            # labels of dangers and combos: named first
    urgencies: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    danger: bool = False
    decisive: bool = False   # a danger word that decides the category was found
    claims: bool = False     # a word that claims the category (建议, 表扬) was found
    claim_urgency: str | None = None   # the urgency that word's topic sets (a suggestion: low)
    longest: int = 0

    def merge(self, other: _Evidence, urgencies: bool = True) -> None:
        """Take over another category's evidence (its urgency defaults stay as they were;
        with `urgencies=False` its urgencies stay behind: a danger still makes the request urgent)."""
        self.score += other.score
        for label, weight in other.labels.items():
            self.labels[label] = self.labels.get(label, 0.0) + weight
        if urgencies:
            self.urgencies |= other.urgencies
        self.tags |= other.tags
        self.leading |= other.leading
        self.danger |= other.danger
        self.decisive |= other.decisive
        self.claims |= other.claims
        self.claim_urgency = self.claim_urgency or other.claim_urgency
        self.longest = max(self.longest, other.longest)

    def add(self, label: str, weight: float, urgency: str | None, default: str, length: int = 0) -> None:
        self.score += weight
        self.labels[label] = self.labels.get(label, 0.0) + weight
        self.urgencies.add(urgency or default)
        self.longest = max(self.longest, length)


@dataclass(frozen=True)
class _Said:
    """What the whole utterance says besides its category: shared by every reading of it."""

    transcript: str
    place: str | None
    tags: frozenset[str]
    asking: bool
    danger: bool
    outright: bool = False   # said outright to be a question (请问, 想了解): even "high" becomes "low"
    not_acute: bool = False  # a `[not_acute]` word was said (两天了, 药吃完了)
    earlier: bool = False    # the `[earlier]` rule fired: the only danger is an injury days ago (昨天崴了, 今天肿了)


class IntentParser:
    """Parses requests with one vocabulary; build once, then `parse()` from any thread."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._index = TermIndex(vocabulary.terms, vocabulary.negation, vocabulary.not_by_sound)
        self._order = {code: i for i, code in enumerate(vocabulary.categories)}
        # the other words the parser listens for (combos, context, tags, places), by text or sound
        self._probes = TermIndex(tuple(Term(w, "", "", None, 0.0, syllables=term_syllables(w))
                                       for w in sorted(_probe_words(vocabulary))),
                                 vocabulary.negation, vocabulary.not_by_sound)

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> IntentParser:
        """A parser for the vocabulary file at `path` (default: assets/vocabulary.toml)."""
        return cls(vocab_mod.load(path))

    def parse(self, text: str | None) -> Intent:
        """Understand one utterance. Never raises for odd text: empty, huge, emoji or Latin all give a result."""
        transcript = text if isinstance(text, str) else ""
        norm = self.vocabulary.normalise(transcript[:MAX_INPUT_CHARS])[:MAX_ANALYSED_CHARS]
        if not norm:
            return self._not_understood(_Said(transcript, None, frozenset(), False, False), [], heard=False)
        matches, negated = self._index.find(norm)
        words, anywhere = self._probes.said(norm, negated)
        evidence = self._evidence(matches, words, anywhere)
        said = _Said(transcript, find_location(norm, self.vocabulary.rooms, words), self._tags(words),
                     self._asking(words, self._question_form(norm)), any(e.danger for e in evidence.values()), self._asks_outright(words),
                     any(w in words for w in self.vocabulary.not_acute), self._earlier(evidence, words, anywhere))
        ranked = self._rank(evidence, said.danger)
        if not ranked or evidence[ranked[0]].score < MIN_EVIDENCE:
            guesses = [self._reading(c, evidence[c], said, 0.0, "low") for c in ranked[:2]]
            return self._not_understood(said, guesses)
        return self._understood(ranked, evidence, said)

    def _rank(self, evidence: dict[str, _Evidence], danger: bool) -> list[str]:
        """Categories with evidence, most likely first: a deciding danger word, then points."""
        ranked = sorted((c for c in evidence if evidence[c].score > 0),
                        key=lambda c: (not evidence[c].decisive, -evidence[c].score, -evidence[c].longest,
                                       self._order[c]))
        return self._claimed_first(ranked, evidence, danger)

    def _understood(self, ranked: list[str], evidence: dict[str, _Evidence], said: _Said) -> Intent:
        """Tier high or medium: the best reading, with the two likeliest as alternatives."""
        top = evidence[ranked[0]]
        second = evidence[ranked[1]].score if len(ranked) > 1 else 0.0
        # the tier follows the confidence: high >= HIGH_CONFIDENCE > medium >= MEDIUM_CONFIDENCE > low
        confidence = max(_confidence(top.score, second, top.danger), MEDIUM_CONFIDENCE)
        tier = "high" if confidence >= HIGH_CONFIDENCE else "medium"
        readings = [self._reading(c, evidence[c], said,
                                  confidence if i == 0 else _confidence(evidence[c].score, top.score, False), tier)
                    for i, c in enumerate(ranked[:2])]
        best = readings[0]
        best.alternatives = readings if len(readings) > 1 else []
        return best

    def _claimed_first(self, ranked: list[str], evidence: dict[str, _Evidence], danger: bool) -> list[str]:
        """Put a claimed category (a suggestion, thanks) first unless what else was said is high or urgent."""
        claimed = next((c for c in ranked if evidence[c].claims), None)
        if claimed is None or claimed == ranked[0] or danger:
            return ranked
        cats = self.vocabulary.categories
        top = evidence[ranked[0]]
        top_urgency = max(top.urgencies or {cats[ranked[0]].urgency}, key=URGENCIES.index)
        if URGENCIES.index(top_urgency) >= URGENCIES.index("high"):
            return ranked
        return [claimed] + [c for c in ranked if c != claimed]

    def _evidence(self, matches: list[Match], said: dict[str, int], anywhere: set[str]) -> dict[str, _Evidence]:
        """Points per category from keywords, combinations and context words."""
        cats = self.vocabulary.categories
        evidence = {code: _Evidence() for code in cats}
        seen: dict[tuple[str, str], float] = {}
        for m in matches:  # a word said twice counts once
            if m.term.unless and any(w in anywhere for w in m.term.unless):
                continue   # 猫走失: the topic's `unless` words say this is not what the keyword means
            key = (m.term.category, m.term.text)
            if m.weight > seen.get(key, 0.0):
                seen[key] = m.weight
                e = evidence[m.term.category]
                e.add(m.term.label, m.weight, m.term.urgency, cats[m.term.category].urgency, m.end - m.start)
                e.tags.update(m.term.tags)
                if m.term.danger:
                    e.leading.add(m.term.label)
                e.danger |= m.term.danger
                e.decisive |= m.term.decides and m.exact   # a danger only heard by sound does not decide
                if m.term.claims and m.exact:   # 点胀 heard is not 点赞: only said words claim
                    e.claims = True
                    e.claim_urgency = e.claim_urgency or m.term.urgency
        for combo in self.vocabulary.combos:
            if _fires(combo, said, anywhere):
                e = evidence[combo.category]
                e.add(combo.label, combo.weight, combo.urgency, cats[combo.category].urgency)
                e.leading.add(combo.label)
                e.danger |= combo.urgency == "urgent"
                e.decisive |= combo.urgency == "urgent"
        for rule in self.vocabulary.relocations:
            if (any(w in said for w in rule.when) and not any(w in said for w in rule.unless)
                    and evidence[rule.target].score >= rule.target_evidence
                    and (rule.dangers or not evidence[rule.source].decisive)):   # a danger keeps its category
                evidence[rule.target].merge(evidence[rule.source], rule.carry_urgency)
                evidence[rule.source] = _Evidence()
        for code, e in evidence.items():
            if e.score > 0:
                if any(w in said for w in cats[code].context):
                    e.score += CONTEXT_WEIGHT
        return evidence

    def _earlier(self, evidence: dict[str, _Evidence], said: dict[str, int], anywhere: set[str]) -> bool:
        """The `[earlier]` rule fired and its category holds the only danger said."""
        rule = self.vocabulary.earlier
        if rule is None or not _fires(rule, said, anywhere):
            return False
        return all(not e.danger for code, e in evidence.items() if code != rule.category)

    def _asking(self, said: dict[str, int], question_form: bool = False) -> bool:
        """Whether the resident asks for information rather than reports a problem."""
        v = self.vocabulary
        if any(w in said for w in v.information):
            return True
        if self._asks_outright(said):
            return True
        asked = question_form or any(w in said for w in v.questions)
        return asked and not any(w in said for w in v.questions_unless)

    def _question_form(self, norm: str) -> bool:
        """Said in the form of a question: A-not-A (收不收费) or a question word at the end (要钱不, 好伐)."""
        if any(m.group(1) not in _REQUEST_A_NOT_A for m in _A_NOT_A.finditer(norm)):
            return True
        return norm.endswith(self.vocabulary.endings or ("\0",))

    def _asks_outright(self, said: dict[str, int]) -> bool:
        """A question said as one (请问, 想了解 ...) with no problem named (坏, 堵, 没电 ...)."""
        v = self.vocabulary
        return any(w in said for w in v.asks) and not any(w in said for w in v.asks_unless)

    def _tags(self, said: dict[str, int]) -> frozenset[str]:
        """Tags whose words were said (独居老人, 行动不便 ...)."""
        return frozenset(name for name, words in self.vocabulary.tags.items() if any(w in said for w in words))

    def _reading(self, code: str, e: _Evidence, said: _Said, confidence: float, tier: str) -> Intent:
        """The Intent for reading the request as category `code`."""
        cat = self.vocabulary.categories[code]
        urgency = max(e.urgencies or {cat.urgency}, key=URGENCIES.index)
        if e.claims and e.claim_urgency:
            urgency = e.claim_urgency   # praise or a suggestion about anything is "low"
        if said.asking and urgency == "normal" or said.outright and urgency == "high":
            urgency = "low"
        v = self.vocabulary
        if code == v.not_acute_category and urgency == "urgent" and said.not_acute:
            urgency = v.not_acute_urgency   # fever for two days, medicine running out: today, not now
        if said.danger and said.earlier and code == v.earlier.category:
            urgency = v.earlier.urgency or urgency   # fell the day before yesterday, swollen today: today, not now
        elif said.danger:
            urgency = "urgent"          # a danger word anywhere, whatever else was said
        labels = sorted(e.labels, key=lambda lb: (lb not in e.leading, -e.labels[lb]))[:2]
        summary = f"{cat.name}：{'、'.join(labels)}" + (f"（{said.place}）" if said.place else "")
        return Intent(code, urgency, summary, said.place, sorted(said.tags | e.tags), round(confidence, 3), tier,
                      [], said.transcript, cat.name)

    def _not_understood(self, said: _Said, guesses: list[Intent], heard: bool = True) -> Intent:
        """Tier low: category other, the transcript kept, weak guesses as alternatives."""
        cat = self.vocabulary.categories[FALLBACK_CATEGORY]
        if heard:
            gist = " ".join(said.transcript.split())
            summary = f"{cat.name}：{gist[:SUMMARY_TEXT_CHARS]}" + ("…" if len(gist) > SUMMARY_TEXT_CHARS else "")
        else:
            summary = f"{cat.name}：（没有听清）"
        confidence = min(MEDIUM_CONFIDENCE - 0.01, guesses[0].confidence) if guesses else 0.0
        # a weak guess that would be urgent (a medical word heard faintly) keeps the urgency:
        # rating an emergency lower is the worst mistake, a needless call the cheapest
        urgent = said.danger or any(g.urgency == "urgent" for g in guesses)
        return Intent(FALLBACK_CATEGORY, "urgent" if urgent else "low", summary, said.place,
                      sorted(said.tags), round(confidence, 3), "low", guesses, said.transcript, cat.name)


def _confidence(score: float, second: float, danger: bool) -> float:
    """0..1 from how much evidence there is and how far ahead of the runner-up it is."""
    evidence = 1.0 - math.exp(-score / 0.8)
    margin = (score - second) / score if score > 0 else 0.0
    # a close runner-up costs most of the confidence: two readings near each other are asked back
    value = evidence * (MARGIN_FLOOR + (1.0 - MARGIN_FLOOR) * max(0.0, margin))
    return max(value, 0.8) if danger else value


def _fires(combo: Combo, said: dict[str, int], anywhere: set[str]) -> bool:
    """Every group has a word said (not negated), and none of the `none` words was said at all."""
    if any(w in anywhere for w in combo.none):
        return False
    return all(any(w in said for w in group) for group in combo.groups)


def _probe_words(v: Vocabulary) -> set[str]:
    """Every word the parser looks for besides keywords: combos, context, tags, places, rules."""
    words: set[str] = {*v.rooms, *v.information, *v.questions, *v.questions_unless, *v.asks, *v.asks_unless,
                       *v.not_acute}
    for combo in (*v.combos, *([v.earlier] if v.earlier else [])):
        words.update(combo.none)
        for group in combo.groups:
            words.update(group)
    for cat in v.categories.values():
        words.update(cat.context)
    for tag_words in v.tags.values():
        words.update(tag_words)
    for rule in v.relocations:
        words.update(rule.when, rule.unless)
    for term in v.terms:
        words.update(term.unless)
    return words


_lock = threading.Lock()
_default: IntentParser | None = None
_default_path: str | None = None


def use_vocabulary(path: str | Path | None) -> IntentParser:
    """Make `parse()` use the vocabulary at `path` (None: the bundled one); loads it now, once."""
    global _default, _default_path
    parser = IntentParser.from_file(path)
    with _lock:
        _default, _default_path = parser, str(path) if path else None
    return parser


def default_parser() -> IntentParser:
    """The parser `parse()` uses, loading the bundled vocabulary on first call."""
    global _default
    with _lock:
        if _default is None:
            _default = IntentParser.from_file(_default_path)
        return _default


def parse(text: str | None) -> Intent:
    """Understand one utterance with the default vocabulary (see `use_vocabulary`)."""
    return default_parser().parse(text)
