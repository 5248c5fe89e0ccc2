"""The shipped repair catalogue is valid and covers every central category; bad files are refused."""

import json

import pytest

from kiosk.screens import repair_catalog
from kiosk.screens.repair_catalog import CatalogError


def test_shipped_catalogue_covers_every_category():
    cat = repair_catalog.load()
    assert [c.code for c in cat.categories] == list(repair_catalog.CATEGORIES)
    ids = [p.id for c in cat.categories for p in c.problems]
    assert len(ids) == len(set(ids))
    assert cat.problem("safety.gas").urgency == "urgent"
    assert cat.problem("public_facility.lift_trapped").urgency == "urgent"
    assert cat.problem("repair.light").urgency == "normal"
    assert all(p.summary and p.name("en") and p.name("zh") for c in cat.categories for p in c.problems)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["categories"][0].update(code="plumbing"), "unknown category"),
    (lambda d: d["categories"][0]["problems"][0].update(urgency="soon"), "urgency"),
    (lambda d: d["categories"][1]["problems"][0].update(category="repair"), "category"),
    (lambda d: d["categories"][2]["problems"][0]["name"].pop("en"), "zh and en"),
    (lambda d: d["locations"][0].pop("id"), r"locations\[0\]"),
])
def test_bad_catalogue_is_refused_with_a_reason(tmp_path, mutate, message):
    doc = json.loads(repair_catalog.DEFAULT_PATH.read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        repair_catalog.load(path)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        repair_catalog.load(tmp_path / "none.json")
    (tmp_path / "b.json").write_text("{", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON"):
        repair_catalog.load(tmp_path / "b.json")


def test_every_catalogue_picture_is_drawn():
    from kiosk.screens.repair_pictures import drawable

    cat = repair_catalog.load()
    kinds = {c.icon for c in cat.categories} | {p.icon for c in cat.categories for p in c.problems}
    kinds |= {loc.icon for loc in cat.locations}
    assert sorted(k for k in kinds if not drawable(k)) == []
    assert not drawable("no-such-picture")
