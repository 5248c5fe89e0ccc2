"""The touch-repair catalogue (assets/repair_catalog.json): categories -> common problems.

Loaded once per app and validated on load: a broken catalogue is a packaging
error, reported as CatalogError naming what is wrong, not a crash mid-flow.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "repair_catalog.json"
URGENCIES = ("urgent", "high", "normal", "low")
CATEGORIES = (
    "repair", "public_facility", "sanitation", "safety", "medical", "elderly_care",
    "parcel", "parking", "neighbor", "consult", "activity", "other",
)


class CatalogError(ValueError):
    """The catalogue file is missing or malformed; str() says where."""


@dataclass(frozen=True)
class Problem:
    """One common problem residents can tap."""

    id: str
    category: str
    urgency: str
    icon: str
    names: dict[str, str]
    summary: str              # staff-facing, Chinese
    tags: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["zh"]


@dataclass(frozen=True)
class Category:
    """A request category (codes from the central API) with its common problems."""

    code: str
    icon: str
    names: dict[str, str]
    problems: tuple[Problem, ...]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["zh"]


@dataclass(frozen=True)
class Location:
    """Where the problem is (optional step)."""

    id: str
    icon: str
    names: dict[str, str]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["zh"]


@dataclass(frozen=True)
class Catalog:
    categories: tuple[Category, ...]
    locations: tuple[Location, ...]

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(code)

    def problem(self, problem_id: str) -> Problem:
        for c in self.categories:
            for p in c.problems:
                if p.id == problem_id:
                    return p
        raise KeyError(problem_id)

    def location(self, location_id: str) -> Location:
        for loc in self.locations:
            if loc.id == location_id:
                return loc
        raise KeyError(location_id)


def _names(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw[k] for k in ("zh", "en")):
        raise CatalogError(f"{where}.name: needs non-empty zh and en")
    return {"zh": raw["zh"], "en": raw["en"]}


def _problem(raw: dict, category: str, where: str) -> Problem:
    if raw.get("category") != category:
        raise CatalogError(f"{where}.category: must be {category!r}")
    if raw.get("urgency") not in URGENCIES:
        raise CatalogError(f"{where}.urgency: must be one of {', '.join(URGENCIES)}")
    for key in ("id", "icon", "summary"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogError(f"{where}.{key}: must be a non-empty string")
    return Problem(raw["id"], category, raw["urgency"], raw["icon"], _names(raw.get("name"), where),
                   raw["summary"], tuple(raw.get("tags", ())))


def parse(doc: object) -> Catalog:
    """Validate a parsed catalogue document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("categories"), list):
        raise CatalogError("catalogue: needs a list of categories")
    cats = []
    for i, raw in enumerate(doc["categories"]):
        where = f"categories[{i}]"
        if not isinstance(raw, dict) or raw.get("code") not in CATEGORIES:
            raise CatalogError(f"{where}.code: unknown category")
        probs = raw.get("problems")
        if not isinstance(probs, list) or not probs:
            raise CatalogError(f"{where}.problems: needs at least one problem")
        cats.append(Category(raw["code"], str(raw.get("icon", raw["code"])), _names(raw.get("name"), where),
                             tuple(_problem(p, raw["code"], f"{where}.problems[{j}]") for j, p in enumerate(probs))))
    locs = []
    for i, raw in enumerate(doc.get("locations", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise CatalogError(f"locations[{i}].id: must be a non-empty string")
        locs.append(Location(raw["id"], str(raw.get("icon", raw["id"])), _names(raw.get("name"), f"locations[{i}]")))
    return Catalog(tuple(cats), tuple(locs))


def load(path: str | Path = DEFAULT_PATH) -> Catalog:
    """Read and validate the catalogue file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"catalogue: file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise CatalogError(f"catalogue: {path} is not valid JSON: {err}") from None
    return parse(doc)


@functools.cache
def shipped() -> Catalog:
    """The catalogue shipped in assets/, loaded once per process."""
    return load(DEFAULT_PATH)
