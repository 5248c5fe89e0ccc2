"""Recognition errors: the evaluation set with one character per utterance swapped for a
homophone (as vosk does: 修灯 -> 修等) must still be understood nearly as well."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from pypinyin import Style, lazy_pinyin

from voice.intent import IntentParser

EVAL = Path(__file__).resolve().parents[1] / "data" / "intent_eval.jsonl"
CATEGORY_FLOOR = 0.95
URGENCY_FLOOR = 0.96
URGENT_RECALL_FLOOR = 0.99


def _reading(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL)[0]


def _noised(rows: list[dict], seed: int) -> list[tuple[dict, str]]:
    """Each utterance with one Chinese character replaced by another with the same pinyin."""
    chars = sorted({ch for row in rows for ch in row["text"] if "\u4e00" <= ch <= "\u9fff"})
    by_sound: dict[str, list[str]] = {}
    for ch in chars:
        by_sound.setdefault(_reading(ch), []).append(ch)
    rnd = random.Random(seed)
    out = []
    for row in rows:
        text = row["text"]
        spots = [i for i, ch in enumerate(text) if len(by_sound.get(_reading(ch), ())) > 1]
        if not spots:
            continue
        i = rnd.choice(spots)
        other = rnd.choice([c for c in by_sound[_reading(text[i])] if c != text[i]])
        out.append((row, text[:i] + other + text[i + 1:]))
    return out


@pytest.fixture(scope="module")
def results():
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    parser = IntentParser.from_file()
    return [(row, noisy, parser.parse(noisy)) for row, noisy in _noised(rows, seed=8)]


def test_the_noise_really_changes_the_text(results):
    assert len(results) >= 1000
    assert all(noisy != row["text"] for row, noisy, _ in results)


def test_category_and_urgency_survive_homophones(results):
    n = len(results)
    assert sum(i.category == row["category"] for row, _, i in results) / n >= CATEGORY_FLOOR
    assert sum(i.urgency == row["urgency"] for row, _, i in results) / n >= URGENCY_FLOOR


def test_emergencies_survive_homophones(results):
    urgent = [(row, noisy, i) for row, noisy, i in results if row["urgency"] == "urgent"]
    kept = sum(i.urgency == "urgent" for _, _, i in urgent)
    assert kept / len(urgent) >= URGENT_RECALL_FLOOR
