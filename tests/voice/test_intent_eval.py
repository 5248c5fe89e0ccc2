"""Accuracy floors on the labelled evaluation set (tests/data/intent_eval.jsonl).

The floors sit just under today's figures: a change to the parser or the
vocabulary that makes understanding worse fails here. Errors are not equal:
no urgent request may be rated below urgent, and a confident (high-tier)
answer must almost never be wrong.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from voice.intent import IntentParser

EVAL = Path(__file__).resolve().parents[1] / "data" / "intent_eval.jsonl"
CATEGORY_FLOOR = 0.97
URGENCY_FLOOR = 0.98
PER_CATEGORY_FLOOR = 0.88
HIGH_TIER_PRECISION_FLOOR = 0.985


@pytest.fixture(scope="module")
def results():
    parser = IntentParser.from_file()
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row, parser.parse(row["text"])) for row in rows]


def test_the_set_is_big_and_covers_every_category_and_urgency(results):
    assert len(results) >= 400
    categories = Counter(row["category"] for row, _ in results)
    urgencies = Counter(row["urgency"] for row, _ in results)
    assert len(categories) == 12 and min(categories.values()) >= 15
    assert set(urgencies) == {"urgent", "high", "normal", "low"} and min(urgencies.values()) >= 30


def test_category_accuracy_floor(results):
    right = sum(intent.category == row["category"] for row, intent in results)
    assert right / len(results) >= CATEGORY_FLOOR


def test_urgency_accuracy_floor(results):
    right = sum(intent.urgency == row["urgency"] for row, intent in results)
    assert right / len(results) >= URGENCY_FLOOR


def test_every_category_is_understood(results):
    totals, right = Counter(), Counter()
    for row, intent in results:
        totals[row["category"]] += 1
        right[row["category"]] += intent.category == row["category"]
    weak = {c: round(right[c] / totals[c], 2) for c in totals if right[c] / totals[c] < PER_CATEGORY_FLOOR}
    assert weak == {}


def test_no_urgent_request_is_rated_lower(results):
    missed = [row["text"] for row, intent in results if row["urgency"] == "urgent" and intent.urgency != "urgent"]
    assert missed == []


def test_confident_answers_are_right(results):
    high = [(row, intent) for row, intent in results if intent.tier == "high"]
    assert len(high) >= 0.8 * len(results)
    right = sum(intent.category == row["category"] for row, intent in high)
    assert right / len(high) >= HIGH_TIER_PRECISION_FLOOR
