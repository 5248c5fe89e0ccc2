"""Accuracy on utterances the vocabulary was not written from (issue #5).

Two held-out sets are written blind by another engineer, in the format of
tests/data/intent_eval.jsonl (`text`, `category`, `urgency`):

- intent_heldout_dev.jsonl  -- may be studied to find weaknesses; its sentences
  are never copied into the vocabulary. Floors sit a little under what the
  parser reaches today.
- intent_heldout_dev2.jsonl -- a second blind writer's set (526 lines), delivered
  in two parts while the parser was worked on. First sight, before its misses
  were studied: part 1 (253) 0.905 / 0.826 / 0 urgent rated lower, part 2 (273)
  0.824 / 0.802 / 4 -- the best estimate of accuracy on unseen speech. Since
  studied like dev: floors a little under today's figures.
- intent_heldout_test.jsonl -- sealed: never read while tuning, only scored.
  The issue's targets are category >= 0.95, urgency >= 0.90 and no urgent
  request rated lower. Scored on 2026-11-22: 0.781 / 0.790 / 3 before the
  held-out work, 0.806 / 0.853 / 1 after tuning on dev, 0.835 / 0.868 / 1
  after tuning on dev and dev2. The floors below sit just under the last
  score, so the test stops regressions; they are not the targets.

On a failure the misread utterances are printed (not the sealed set's).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice.intent import Intent, IntentParser
from voice.vocabulary import URGENCIES

DATA = Path(__file__).resolve().parents[1] / "data"
DEV = DATA / "intent_heldout_dev.jsonl"
SEALED = DATA / "intent_heldout_test.jsonl"

DEV_CATEGORY_FLOOR = 0.90
DEV_URGENCY_FLOOR = 0.91
DEV_URGENT_RATED_LOWER_MAX = 0

DEV2 = DATA / "intent_heldout_dev2.jsonl"
DEV2_CATEGORY_FLOOR = 0.93
DEV2_URGENCY_FLOOR = 0.90
DEV2_URGENT_RATED_LOWER_MAX = 0

# A one-tap (high-tier) answer must rarely be wrong on text written by others:
# when two readings are close the kiosk asks back instead.
HELDOUT_HIGH_TIER_PRECISION_FLOOR = 0.95

SEALED_CATEGORY_FLOOR = 0.83     # measured; the target is 0.95
SEALED_URGENCY_FLOOR = 0.86      # measured; the target is 0.90
SEALED_URGENT_RATED_LOWER_MAX = 1  # measured; the target is 0


@pytest.fixture(scope="module")
def parser() -> IntentParser:
    return IntentParser.from_file()


def _score(parser: IntentParser, path: Path) -> list[tuple[dict, Intent]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert rows, f"{path.name} is empty"
    return [(row, parser.parse(row["text"])) for row in rows]


def _rated_lower(results: list[tuple[dict, Intent]]) -> list[str]:
    return [f"{row['text']} -> {intent.category}/{intent.urgency}" for row, intent in results
            if row["urgency"] == "urgent" and URGENCIES.index(intent.urgency) < URGENCIES.index("urgent")]


def _check(results: list[tuple[dict, Intent]], category_floor: float, urgency_floor: float,
           rated_lower_max: int, *, show_texts: bool = True) -> None:
    """Assert the floors; on failure list the misread utterances (not for the sealed set: its
    sentences must stay unseen by whoever tunes the parser)."""
    n = len(results)
    category = sum(intent.category == row["category"] for row, intent in results) / n
    urgency = sum(intent.urgency == row["urgency"] for row, intent in results) / n
    lower = _rated_lower(results)
    misread = [f"want {row['category']}/{row['urgency']} got {intent.category}/{intent.urgency}: {row['text']}"
               for row, intent in results
               if (intent.category, intent.urgency) != (row["category"], row["urgency"])]
    report = (f"category {category:.3f} (floor {category_floor}), urgency {urgency:.3f} (floor {urgency_floor}), "
              f"urgent rated lower {len(lower)} (at most {rated_lower_max})\n" + ("\n".join(misread) if show_texts else ""))
    assert category >= category_floor, report
    assert urgency >= urgency_floor, report
    assert len(lower) <= rated_lower_max, report + ("\nurgent rated lower:\n" + "\n".join(lower) if show_texts else "")


def test_heldout_dev_set(parser):
    _check(_score(parser, DEV), DEV_CATEGORY_FLOOR, DEV_URGENCY_FLOOR, DEV_URGENT_RATED_LOWER_MAX)


def test_heldout_dev2_set(parser):
    _check(_score(parser, DEV2), DEV2_CATEGORY_FLOOR, DEV2_URGENCY_FLOOR, DEV2_URGENT_RATED_LOWER_MAX)


def test_confident_answers_on_heldout_dev_sets_are_right(parser):
    results = _score(parser, DEV) + _score(parser, DEV2)
    high = [(row, intent) for row, intent in results if intent.tier == "high"]
    assert len(high) >= 0.6 * len(results)   # most answers are still one tap
    wrong = [f"want {row['category']} got {intent.category}: {row['text']}" for row, intent in high
             if intent.category != row["category"]]
    assert 1 - len(wrong) / len(high) >= HELDOUT_HIGH_TIER_PRECISION_FLOOR, "\n".join(wrong)


def test_sealed_heldout_test_set(parser):
    _check(_score(parser, SEALED), SEALED_CATEGORY_FLOOR, SEALED_URGENCY_FLOOR, SEALED_URGENT_RATED_LOWER_MAX,
           show_texts=False)
