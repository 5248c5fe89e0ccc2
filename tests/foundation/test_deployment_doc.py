"""docs/deployment.md points at files that exist and at commands and options that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = ("deployment.md", "configuration.md")
REPO_PATH = re.compile(r"`((?:systemd|assets|docs|kiosk|scripts|voice|devices|sync)/[\w./@-]*\.[a-z]+)`")  # files, not MQTT accounts


@pytest.mark.parametrize("doc", DOCS)
def test_repository_paths_in_the_doc_exist(doc):
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    paths = set(REPO_PATH.findall(text))
    assert paths, "the doc names no repository files at all"
    assert sorted(p for p in paths if not (REPO / p).exists()) == []


def test_every_shipped_unit_and_example_is_explained():
    text = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    shipped = [p.name for p in (REPO / "systemd").rglob("*") if p.is_file()]
    assert sorted(name for name in shipped if name not in text) == []


@pytest.mark.parametrize("module, subcommand", [("kiosk", "check-config"), ("kiosk", "hash-pin"),
                                                ("sync", "status"), ("devices", "serial-bridge"), ("devices", "status"),
                                                ("voice", "fetch-model"), ("voice", "listen"), ("voice", "say")])
def test_commands_the_doc_tells_you_to_run_exist(run_cli, module, subcommand):
    """Each subcommand the doc uses exists, with every --option the doc gives it."""
    text = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    uses = re.findall(rf"{subcommand}((?: [^`\n]*)?)", text)
    assert uses, f"the doc never runs {subcommand}"
    result = run_cli(module, subcommand, "--help")
    assert result.returncode == 0, result.stderr
    options = {w for use in uses for w in use.split() if w.startswith("--")}
    assert sorted(o for o in options if o not in result.stdout) == []
