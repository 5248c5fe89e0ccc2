"""The intent parser's vocabulary: read `assets/vocabulary.toml`, check it, and precompute.

Everything the parser knows about words lives in that one data file so that a
community can extend it without code. This module turns it into immutable,
ready-to-match structures once; `voice.intent` loads it lazily on first use.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice.intent_pinyin import term_syllables
from voice.intent_text import Normaliser

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "assets" / "vocabulary.toml"
URGENCIES = ("low", "normal", "high", "urgent")
FALLBACK_CATEGORY = "other"

# How much one keyword counts, by its length in characters: longer words are
# more specific. Danger words count more, so they decide the category.
_LENGTH_WEIGHT = {1: 0.5, 2: 1.0, 3: 1.4}
_LONG_WEIGHT = 1.8
DANGER_BOOST = 2.0
COMBO_WEIGHT = 1.5


class VocabularyError(ValueError):
    """The vocabulary file is missing, not TOML, or has a wrong entry (the message says where)."""


@dataclass(frozen=True)
class Term:
    """One keyword of one topic, with everything matching needs precomputed."""

    text: str
    category: str
    label: str
    urgency: str | None
    weight: float
    danger: bool = False
    tags: tuple[str, ...] = ()
    syllables: tuple[tuple[str, ...], ...] = ()   # fuzzy pinyin, one or more readings
    decides: bool = False  # a danger word that decides the category (摔倒 -> medical)
    claims: bool = False   # decides the category unless the rest is high or urgent (建议 -> other)
    unless: tuple[str, ...] = ()   # the keyword does not count when one of these is said (猫走失 is no person)


@dataclass(frozen=True)
class Category:
    """A request category (codes shared with the central service)."""

    code: str
    name: str
    urgency: str
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Combo:
    """A rule that fires when every group has at least one of its words in the text."""

    category: str
    label: str
    urgency: str | None
    groups: tuple[tuple[str, ...], ...]
    none: tuple[str, ...] = ()   # the rule does not fire when one of these is said
    weight: float = COMBO_WEIGHT  # points it adds to its category


@dataclass(frozen=True)
class Relocate:
    """Evidence for `source` counts for `target` when a `when` word is said and no `unless` word."""

    source: str
    target: str
    when: tuple[str, ...]
    unless: tuple[str, ...]
    dangers: bool = False   # move a danger too (a burst pipe in the stairwell is the building's)
    target_evidence: float = 0.0   # only when `target` already has this many points of its own
    carry_urgency: bool = True     # False: `source`'s urgencies stay behind (a danger still makes it urgent)


@dataclass(frozen=True)
class Negation:
    """Negation cues and their reach."""

    cues: tuple[str, ...]
    window: int
    breaks: tuple[str, ...]
    exceptions: tuple[str, ...]
    hypothetical: tuple[str, ...] = ()   # cues that make a danger word a hazard (容易着火)


@dataclass(frozen=True)
class Vocabulary:
    """The whole vocabulary, validated; build it with `load()`."""

    categories: dict[str, Category]
    terms: tuple[Term, ...]
    combos: tuple[Combo, ...]
    fillers: tuple[str, ...]
    variants: dict[str, str]
    normalise: Normaliser
    negation: Negation
    tags: dict[str, tuple[str, ...]]
    rooms: tuple[str, ...]
    information: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()          # ask for information unless an `unless` word is said
    questions_unless: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()               # say outright it is a question (请问) unless an `asks_unless` word is said
    asks_unless: tuple[str, ...] = ()
    endings: tuple[str, ...] = ()            # a question by its last word (要收钱不, 好伐), like `questions`
    not_acute: tuple[str, ...] = ()          # a complaint that has lasted days or can wait a little
    not_acute_category: str = "medical"      # ... lowers this category's default "urgent"
    not_acute_urgency: str = "high"          # ... to this, when no danger word was said
    earlier: Combo | None = None             # an injury that happened days ago and now swells: its urgency, not "urgent"
    relocations: tuple[Relocate, ...] = ()
    not_by_sound: tuple[str, ...] = ()
    phrases: tuple[tuple[str, str], ...] = field(default=())
    source: str = ""


def length_weight(text: str) -> float:
    """The base weight of a keyword of this length."""
    return _LENGTH_WEIGHT.get(len(text), _LONG_WEIGHT)


def load(path: str | Path | None = None) -> Vocabulary:
    """Read, check and precompute the vocabulary at `path` (default: assets/vocabulary.toml)."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise VocabularyError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise VocabularyError(f"{path}: not valid TOML: {err}") from None
    return from_document(doc, source=str(path))


def from_document(doc: dict[str, Any], source: str = "<memory>") -> Vocabulary:
    """Build a Vocabulary from a parsed TOML document, or raise VocabularyError naming the entry.

    Every word is passed through the same normalisation as heard text
    (fillers dropped, variants rewritten), so that it can match at all.
    """
    norm = _table(doc.get("normalise", {}), "normalise")
    fillers = _strings(norm.get("fillers", []), "normalise.fillers")
    variants = _table(doc.get("variants", {}), "variants")
    for key, value in variants.items():
        if not isinstance(value, str) or not value:
            raise VocabularyError(f"variants.{key}: expected a non-empty string")
    b = _Builder(Normaliser([f.lower() for f in fillers], {k.lower(): v.lower() for k, v in variants.items()},
                            _traditional(doc.get("traditional", {}))))
    b.add_categories(doc.get("categories"))
    for code, table in doc["categories"].items():
        for i, topic in enumerate(_list(table.get("topics", []), f"categories.{code}.topics")):
            b.add_topic(topic, code, f"categories.{code}.topics[{i}]", danger=False)
    for i, entry in enumerate(_list(doc.get("danger", []), "danger")):
        b.add_topic(entry, b.category_ref(entry, f"danger[{i}]"), f"danger[{i}]", danger=True)
    for i, entry in enumerate(_list(doc.get("combos", []), "combos")):
        b.add_combo(entry, f"combos[{i}]")
    for i, entry in enumerate(_list(doc.get("relocate", []), "relocate")):
        b.add_relocation(entry, f"relocate[{i}]")
    tags = {name: b.words(words, f"tags.{name}") for name, words in _table(doc.get("tags", {}), "tags").items()}
    rooms = b.words(_table(doc.get("location", {}), "location").get("rooms", []), "location.rooms")
    info = _table(doc.get("information", {}), "information")
    return Vocabulary(
        categories=b.categories, terms=tuple(b.terms), combos=tuple(b.combos),
        fillers=tuple(fillers), variants=dict(variants), normalise=b.normalise,
        negation=_negation(_table(doc.get("negation", {}), "negation"), b.normalise),
        tags=tags, rooms=rooms, phrases=tuple(b.phrases), source=source, relocations=tuple(b.relocations),
        not_by_sound=b.words(norm.get("not_by_sound", []), "normalise.not_by_sound", drop_empty=True),
        information=b.words(info.get("words", []), "information.words"),
        questions=b.words(info.get("questions", []), "information.questions"),
        questions_unless=b.words(info.get("unless", []), "information.unless"),
        asks=b.words(info.get("asks", []), "information.asks"),
        asks_unless=b.words(info.get("asks_unless", []), "information.asks_unless"),
        endings=b.words(info.get("endings", []), "information.endings", drop_empty=True),
        **_not_acute(_table(doc.get("not_acute", {}), "not_acute"), b),
        earlier=_earlier(_table(doc.get("earlier", {}), "earlier"), b),
    )


class _Builder:
    """Collects categories, terms, combos and example phrases while checking each entry."""

    def __init__(self, normalise: Normaliser) -> None:
        self.normalise = normalise
        self.categories: dict[str, Category] = {}
        self.terms: list[Term] = []
        self.combos: list[Combo] = []
        self.phrases: list[tuple[str, str]] = []
        self.relocations: list[Relocate] = []

    def words(self, value: Any, where: str, drop_empty: bool = False) -> tuple[str, ...]:
        """A word list, each normalised like heard text, without duplicates.

        A word that normalises to nothing (a filler) is an error, or dropped with `drop_empty`.
        """
        out: dict[str, None] = {}
        for word in _strings(value, where):
            canon = self.normalise(word)
            if not canon and drop_empty:
                continue
            if not canon:
                raise VocabularyError(f"{where}: {word!r} is nothing but filler or punctuation")
            out[canon] = None
        return tuple(out)

    def category_ref(self, entry: Any, where: str) -> str:
        code = _table(entry, where).get("category")
        if code not in self.categories:
            raise VocabularyError(f"{where}.category: unknown category {code!r}")
        return code

    def add_categories(self, raw: Any) -> None:
        table = _table(raw, "categories")
        if FALLBACK_CATEGORY not in table:
            raise VocabularyError(f"categories.{FALLBACK_CATEGORY}: required (the fallback category)")
        for code, entry in table.items():
            where = f"categories.{code}"
            entry = _table(entry, where)
            self.categories[code] = Category(
                code, _label(entry, "name", where), _urgency(entry.get("urgency", "normal"), f"{where}.urgency"),
                self.words(entry.get("context", []), f"{where}.context"))

    def add_topic(self, topic: Any, code: str, where: str, danger: bool) -> None:
        topic = _table(topic, where)
        label = _label(topic, "label", where)
        urgency = "urgent" if danger else topic.get("urgency")
        if urgency is not None:
            urgency = _urgency(urgency, f"{where}.urgency")
        weight = topic.get("weight", 1.0)
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 5:
            raise VocabularyError(f"{where}.weight: expected a number in (0, 5]")
        tags = tuple(_strings(topic.get("tags", []), f"{where}.tags"))
        words = self.words(topic.get("keywords", []), f"{where}.keywords")
        if not words:
            raise VocabularyError(f"{where}.keywords: at least one keyword is needed")
        decides = topic.get("sets_category", True)
        claims = topic.get("claims_category", False)
        for key, flag in (("sets_category", decides), ("claims_category", claims)):
            if not isinstance(flag, bool):
                raise VocabularyError(f"{where}.{key}: expected true or false")
        unless = self.words(topic.get("unless", []), f"{where}.unless")
        scale = weight * (DANGER_BOOST if danger else 1.0)
        self.terms += [Term(w, code, label, urgency, length_weight(w) * scale, danger, tags, term_syllables(w),
                            danger and decides, claims and not danger, unless) for w in words]
        self.phrases += [(p, code) for p in _strings(topic.get("phrases", []), f"{where}.phrases")]

    def add_combo(self, entry: Any, where: str) -> None:
        code = self.category_ref(entry, where)
        urgency = entry.get("urgency")
        if urgency is not None:
            urgency = _urgency(urgency, f"{where}.urgency")
        weight = entry.get("weight", COMBO_WEIGHT)
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight <= 5:
            raise VocabularyError(f"{where}.weight: expected a number in (0, 5]")
        groups = _list(entry.get("all"), f"{where}.all")
        if len(groups) < 2:
            raise VocabularyError(f"{where}.all: expected at least two groups of words")
        self.combos.append(Combo(code, _label(entry, "label", where), urgency,
                                 tuple(self.words(g, f"{where}.all[{i}]") for i, g in enumerate(groups)),
                                 self.words(entry.get("none", []), f"{where}.none"), float(weight)))
        self.phrases += [(p, code) for p in _strings(entry.get("phrases", []), f"{where}.phrases")]


    def add_relocation(self, entry: Any, where: str) -> None:
        entry = _table(entry, where)
        codes = []
        for key in ("from", "to"):
            if entry.get(key) not in self.categories:
                raise VocabularyError(f"{where}.{key}: unknown category {entry.get(key)!r}")
            codes.append(entry[key])
        dangers = entry.get("dangers", False)
        if not isinstance(dangers, bool):
            raise VocabularyError(f"{where}.dangers: expected true or false")
        needs = entry.get("target_evidence", 0.0)
        if not isinstance(needs, (int, float)) or isinstance(needs, bool) or needs < 0:
            raise VocabularyError(f"{where}.target_evidence: expected a number >= 0")
        carry = entry.get("carry_urgency", True)
        if not isinstance(carry, bool):
            raise VocabularyError(f"{where}.carry_urgency: expected true or false")
        self.relocations.append(Relocate(codes[0], codes[1], self.words(entry.get("when", []), f"{where}.when"),
                                         self.words(entry.get("unless", []), f"{where}.unless"), dangers,
                                         float(needs), carry))


def _label(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise VocabularyError(f"{where}.{key}: expected a non-empty string")
    return value


def _negation(table: dict[str, Any], normalise: Normaliser) -> Negation:
    window = table.get("window", 4)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 20:
        raise VocabularyError("negation.window: expected an integer 0..20")

    def words(key: str) -> tuple[str, ...]:
        # normalised like heard text; a word that normalises away (a filler) is dropped
        canon = (normalise(w) for w in _strings(table.get(key, []), f"negation.{key}"))
        return tuple(sorted({w for w in canon if w}, key=len, reverse=True))

    hypothetical = words("hypothetical")
    return Negation(tuple(sorted({*words("cues"), *hypothetical}, key=len, reverse=True)), window,
                    words("breaks"), words("exceptions"), hypothetical)


def _traditional(table: Any) -> dict[str, str]:
    """Traditional -> simplified characters from `[traditional] pairs`: "電电 燈灯 ..." (two characters each)."""
    pairs = _table(table, "traditional").get("pairs", "")
    if not isinstance(pairs, str):
        raise VocabularyError("traditional.pairs: expected a string of character pairs")
    out: dict[str, str] = {}
    for pair in pairs.split():
        if len(pair) != 2:
            raise VocabularyError(f"traditional.pairs: {pair!r} is not two characters (traditional, simplified)")
        out[pair[0]] = pair[1]
    return out


def _not_acute(table: dict[str, Any], b: _Builder) -> dict[str, Any]:
    """The `[not_acute]` table as Vocabulary fields (empty: nothing is lowered)."""
    if not table:
        return {}
    return {"not_acute": b.words(table.get("words", []), "not_acute.words"),
            "not_acute_category": b.category_ref(table, "not_acute"),
            "not_acute_urgency": _urgency(table.get("urgency", "high"), "not_acute.urgency")}


def _earlier(table: dict[str, Any], b: _Builder) -> Combo | None:
    """The `[earlier]` rule: every group of `all` said and none of `none` (empty table: no rule)."""
    if not table:
        return None
    groups = _list(table.get("all"), "earlier.all")
    if len(groups) < 2:
        raise VocabularyError("earlier.all: expected at least two groups of words")
    return Combo(b.category_ref(table, "earlier"), "earlier", _urgency(table.get("urgency", "high"), "earlier.urgency"),
                 tuple(b.words(g, f"earlier.all[{i}]") for i, g in enumerate(groups)),
                 b.words(table.get("none", []), "earlier.none"))


def _urgency(value: Any, where: str) -> str:
    if value not in URGENCIES:
        raise VocabularyError(f"{where}: expected one of {', '.join(URGENCIES)}, got {value!r}")
    return value


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VocabularyError(f"{where}: expected a table")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise VocabularyError(f"{where}: expected a list")
    return value


def _strings(value: Any, where: str) -> list[str]:
    items = _list(value, where)
    for item in items:
        if not isinstance(item, str) or not item:
            raise VocabularyError(f"{where}: expected non-empty strings, got {item!r}")
    return items
