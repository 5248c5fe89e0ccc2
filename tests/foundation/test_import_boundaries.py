"""voice, devices and sync never import kiosk or each other (checked on the source, statically)."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUBSYSTEMS = ("voice", "devices", "sync")
PROJECT = ("kiosk", *SUBSYSTEMS)


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_subsystems_import_only_themselves_among_project_packages():
    offences = []
    for pkg in SUBSYSTEMS:
        files = list((REPO / pkg).rglob("*.py"))
        assert files, f"{pkg}/ has no Python files"
        for f in files:
            bad = (_imported_roots(f) & set(PROJECT)) - {pkg}
            offences += [f"{f.relative_to(REPO)} imports {b}" for b in sorted(bad)]
    assert offences == []


def test_checker_sees_a_forbidden_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom kiosk.app import run\nimport sync.outbox as o\n")
    assert _imported_roots(probe) >= {"kiosk", "sync"}
