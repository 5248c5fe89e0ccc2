"""docs/configuration.md documents exactly the keys the code accepts, with the code's types and defaults.

The accepted keys come from the code, not from a list kept here: every call of
a table checker (`_typed(table, "broker", _BROKER_TYPES)`, `_check_table(doc,
"technician", {"pin_hash": str})`, ...) in the settings modules names a section
and its table of key -> type. The sections found must be all of
`kiosk.config.SECTIONS`, so a section checked some other way is noticed too.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kiosk import config

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "configuration.md"
SETTINGS_MODULES = ("kiosk.config", "devices.settings", "sync.settings", "voice.settings")
TYPE_WORDS = {(str,): "string", (int,): "integer", (bool,): "boolean", (int, float): "number", (float,): "number"}
ROW = re.compile(r"^\| `(?P<key>[a-z_]+)` \| (?P<type>[^|]+?) \| (?P<default>[^|]+?) \|")
HEADING = re.compile(r"^## `\[(?P<section>[a-z_]+)\]`\s*$")


def _resolve(node: ast.expr, module: Any) -> Any:
    """A type named in a dict literal: `str`, `_NUM` or `(int, float)`."""
    if isinstance(node, ast.Tuple):
        return tuple(_resolve(e, module) for e in node.elts)
    assert isinstance(node, ast.Name), ast.dump(node)
    return getattr(module, node.id, None) or getattr(builtins, node.id)


def accepted_keys() -> dict[str, dict[str, tuple[type, ...]]]:
    """section -> key -> accepted types, read from the table-checker calls in the settings modules."""
    found: dict[str, dict[str, tuple[type, ...]]] = {}
    for name in SETTINGS_MODULES:
        module = importlib.import_module(name)
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and len(node.args) >= 3):
                continue
            section, table = node.args[1], node.args[2]
            if not (isinstance(section, ast.Constant) and isinstance(section.value, str)):
                continue
            if isinstance(table, ast.Name) and re.fullmatch(r"_[A-Z]+_TYPES", table.id):
                types = getattr(module, table.id)
            elif isinstance(table, ast.Dict):
                types = {k.value: _resolve(v, module) for k, v in zip(table.keys, table.values, strict=True)}
            else:
                continue
            merged = found.setdefault(section.value, {})
            for key, want in types.items():
                merged[key] = want if isinstance(want, tuple) else (want,)
    return found


def documented() -> dict[str, dict[str, tuple[str, str]]]:
    """section -> key -> (type cell, default cell) from the doc's tables."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    section = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if m := HEADING.match(line):
            section = m["section"]
            out[section] = {}
        elif line.startswith("## "):
            section = None
        elif section and (m := ROW.match(line)):
            assert m["key"] not in out[section], f"[{section}] {m['key']} documented twice"
            out[section][m["key"]] = (m["type"].strip(), m["default"].strip())
    return out


def defaults() -> dict[str, Any]:
    """What each section's keys come out as from an empty file."""
    cfg = config.from_document({})
    return {
        "site": cfg, "ui": cfg.ui, "technician": {"pin_hash": cfg.technician_pin_hash},
        "broker": cfg.devices.broker, "central": cfg.sync.central, "voice": cfg.voice,
    }


def test_every_section_is_found_in_the_code():
    assert set(accepted_keys()) == set(config.SECTIONS)


def test_every_accepted_key_is_documented_and_nothing_else():
    code, doc = accepted_keys(), documented()
    missing = [f"{s}.{k}" for s, keys in code.items() for k in keys if k not in doc.get(s, {})]
    stale = [f"{s}.{k}" for s, keys in doc.items() for k in keys if k not in code.get(s, {})]
    assert missing == [], f"add these keys to docs/configuration.md: {missing}"
    assert stale == [], f"docs/configuration.md documents keys the code does not accept: {stale}"


def test_documented_types_match_the_code():
    code, doc = accepted_keys(), documented()
    wrong = [
        f"{s}.{k}: doc says {doc[s][k][0]!r}, code accepts {TYPE_WORDS[want]!r}"
        for s, keys in code.items() for k, want in keys.items()
        if k in doc.get(s, {}) and doc[s][k][0] != TYPE_WORDS[want]
    ]
    assert wrong == []


def _doc_default(cell: str) -> Any:
    if cell == "(none)":
        return None
    assert cell.startswith("`") and cell.endswith("`"), f"default {cell!r} is neither (none) nor a `TOML value`"
    return tomllib.loads(f"v = {cell[1:-1]}")["v"]


def test_documented_defaults_match_the_code():
    values, doc = defaults(), documented()
    wrong = []
    for section, keys in doc.items():
        assert section in values, f"test_config_docs.defaults() does not know section [{section}] yet"
        holder = values[section]
        for key, (_type, cell) in keys.items():
            actual = holder[key] if isinstance(holder, dict) else getattr(holder, key)
            if _doc_default(cell) != actual:
                wrong.append(f"{section}.{key}: doc says {cell}, code has {actual!r}")
    assert wrong == []


def test_every_subsystem_agrees_on_the_site_defaults():
    cfg = config.from_document({})
    for key in ("building_id", "kiosk_id", "state_dir"):
        assert getattr(cfg.devices, key) == getattr(cfg.sync, key) == getattr(cfg.voice, key), key


@pytest.mark.parametrize("section, key", [("broker", "port"), ("technician", "pin_hash"), ("site", "kiosk_id")])
def test_the_scanner_sees_keys_of_both_table_styles(section, key):
    assert key in accepted_keys()[section]


def test_example_config_uses_only_documented_keys():
    example = tomllib.loads((REPO / "assets" / "kiosk.example.toml").read_text(encoding="utf-8"))
    doc = documented()
    unknown = [f"{s}.{k}" for s, table in example.items() for k in table if k not in doc.get(s, {})]
    assert unknown == []
