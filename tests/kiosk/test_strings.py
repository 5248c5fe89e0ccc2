"""The string catalogues: every key used in kiosk/ code and kv exists in zh and en, both
languages define the same keys with the same {placeholders}."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STRINGS = REPO / "assets" / "strings"
KEY = re.compile(r"""["']([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)["']""")
# keys built at run time (f-strings) that the scan cannot see
DYNAMIC = [f"common.unavail_{k}" for k in ("door", "locker", "health")] + \
          [f"common.{a}" for a in ("online", "offline", "unknown")] + \
          [f"technician.kind_{k}" for k in ("door", "locker", "health")] + \
          [f"technician.voice_{s}" for s in ("ready", "loading", "unavailable")]


def catalogue(lang: str) -> dict[str, str]:
    out = {}
    for path in sorted((STRINGS / lang).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict), path
        out.update({f"{path.stem}.{k}": v for k, v in data.items()})
    return out


def used_keys() -> set[str]:
    namespaces = {p.stem for p in (STRINGS / "zh").glob("*.json")} | {p.stem for p in (STRINGS / "en").glob("*.json")}
    used = set(DYNAMIC)
    for path in [*(REPO / "kiosk").rglob("*.py"), *(REPO / "kiosk").rglob("*.kv")]:
        for ns, key in KEY.findall(path.read_text(encoding="utf-8")):
            if ns in namespaces and not key.endswith("_"):  # a prefix completed at run time
                used.add(f"{ns}.{key}")
    return used


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_used_key_exists_in_both_languages():
    zh, en = catalogue("zh"), catalogue("en")
    used = used_keys()
    assert len(used) > 50  # the scan found the keys (a broken regex would pass vacuously)
    assert sorted(k for k in used if k not in zh) == []
    assert sorted(k for k in used if k not in en) == []


def test_both_languages_have_the_same_keys_and_placeholders():
    zh, en = catalogue("zh"), catalogue("en")
    assert sorted(set(zh) ^ set(en)) == []
    assert {k: (fields(zh[k]), fields(en[k])) for k in zh if fields(zh[k]) != fields(en[k])} == {}
    assert all(v.strip() for v in [*zh.values(), *en.values()])


def test_chinese_is_chinese():
    zh = catalogue("zh")
    han = re.compile(r"[\u4e00-\u9fff]")
    # every Chinese string except language names, numbers and codes has Chinese characters
    allowed = {"common.switch_language"}
    bare = {k: re.sub(r"\{[^}]*\}", "", v) for k, v in zh.items()}  # placeholders are not words
    latin_only = [k for k, v in bare.items() if k not in allowed and not han.search(v) and re.search(r"[A-Za-z]{4,}", v)]
    assert latin_only == []
