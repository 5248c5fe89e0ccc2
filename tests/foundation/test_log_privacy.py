"""Nothing personal in any log: the demo tour's logs from every process are scanned for what was entered.

The tour enters distinctive values (tests/e2e: kiosk.tour.TourValues) for the
room, phone, pickup code and spoken request, and takes a blood-pressure
reading; they must reach the central server (checked, so the scan means
something) and appear in no log line of the kiosk, the broker, the device
simulators, the central server or the sync agent.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from kiosk.tour import TourValues
from tests.e2e.demo_run import demo_run, korean_model

pytestmark = [pytest.mark.slow, pytest.mark.timeout(700)]


def _all_logs(voice_model: str | None = None) -> dict[str, str]:
    run = demo_run(voice_model)
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in run.log_files}
    logs["demo stdout"] = run.stdout
    logs["demo stderr"] = run.stderr
    return logs


def _reading_patterns(reading: dict) -> list[re.Pattern]:
    s, d, p = reading["systolic"], reading["diastolic"], reading["pulse"]
    return [
        re.compile(rf"\b{s}\b[^\n]{{0,60}}\b{d}\b"),  # 163/97, "systolic": 163, "diastolic": 97
        re.compile(rf"\b{d}\b[^\n]{{0,60}}\b{s}\b"),
        re.compile(rf"(systolic|diastolic|pulse|收缩压|舒张压|心率)\D{{0,12}}\b({s}|{d}|{p})\b", re.I),
    ]


def test_every_process_logged_something():
    logs = _all_logs()
    for name in ("kiosk.log", "mosquitto.log", "devices.log", "central.log", "agent.log"):
        assert name in logs, f"no {name} among {sorted(logs)}"
    assert logs["kiosk.log"].strip(), "the kiosk wrote no log at all: the scan would prove nothing"


def test_the_entered_values_really_went_through_the_system():
    run = demo_run()
    assert run.returncode == 0, run.explain()
    db = run.out / "run" / "central.sqlite3"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    values = TourValues()
    assert values.room in dump, "the room never reached the central server"
    assert values.spoken_text in _squash(dump) or run.summary["steps"][1]["produced"].get("input") == "spoken", \
        "the request's words never reached the central server"
    reading = run.summary["reading"]
    assert any(p.search(dump) for p in _reading_patterns(reading)), "the shared reading never reached the central"


def _squash(text: str) -> str:
    """Text without whitespace: vosk writes Chinese with spaces between words (我 家 厨房 ...)."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("what", sorted(TourValues().secrets()))
def test_no_personal_value_in_any_log(what):
    value = TourValues().secrets()[what]
    squash = _squash if what == "transcript" else (lambda text: text)
    leaks = [name for name, text in _all_logs().items() if value in squash(text)]
    assert leaks == [], f"the {what} appears in {leaks}"


def test_no_health_reading_in_any_log():
    reading = demo_run().summary["reading"]
    leaks = [f"{name}: {m.group(0)[:80]!r}" for name, text in _all_logs().items()
             for pat in _reading_patterns(reading) if (m := pat.search(text))]
    assert leaks == []


def test_nothing_personal_in_the_logs_when_the_request_is_spoken():
    """The recogniser's path (file-backed microphone, vosk) logs no room, code or reading either."""
    run = demo_run(korean_model())
    assert run.returncode == 0, run.explain()
    logs = _all_logs(korean_model())
    secrets = {k: v for k, v in TourValues().secrets().items() if k != "transcript"}  # heard words differ
    leaks = [(name, what) for name, text in logs.items() for what, value in secrets.items() if value in text]
    leaks += [(name, "reading") for name, text in logs.items()
              for pat in _reading_patterns(run.summary["reading"]) if pat.search(text)]
    assert leaks == []
