"""Nothing personal in any log: the demo tour's logs from every process are scanned for what was entered.

The tour enters distinctive values (tests/e2e: kiosk.tour.TourValues) for the
room, phone, pickup code and spoken request, and takes a blood-pressure
reading; they must reach the central server (checked, so the scan means
something) and appear in no log line of the kiosk, the broker, the device
simulators, the central server or the sync agent.

The call-back phone number is typed by taps on the real app (repair, voice and
emergency flows) with every logger at DEBUG, sent through the outbox and the
sync agent (-v) to the central server (-v), and looked for in all their logs.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
from pathlib import Path

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


class _Keep(logging.Handler):
    """Every record of every logger, formatted as a log file would hold it (with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_a_typed_phone_number_is_in_no_log(mosquitto, tmp_path):
    """Type the call-back number in all three flows; it reaches the central and no log has it."""
    from kiosk.app import KioskApp
    from kiosk.services import Services
    from tests.kiosk.conftest import run_app
    from tests.kiosk.flows.conftest import Central, FlowSite, Proc, type_digits, wait_until

    phone = TourValues().phone
    central = Central(tmp_path / "central")
    central.proc.argv.append("-v")
    central.start()
    site = FlowSite(tmp_path / "site", mosquitto, central.url, central.kiosk_token, building="privacy-b")
    cfg = site.write_config()
    agent = Proc("agent", [sys.executable, "-m", "sync", "run", "-v", "--config", str(site.config_path)],
                 site.folder / "agent.log")
    agent.start()
    keep = _Keep()
    loggers = [logging.getLogger(), logging.getLogger("kivy")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(keep)
        lg.setLevel(logging.DEBUG)
    app = KioskApp(cfg, services=Services(cfg, state_interval_s=0.3))

    def give_phone(d, screen):
        yield from type_digits(d, screen.ids.phone_entry.ids.phone_keypad, phone)
        yield from d.tap(d.find(id="phone_ok"))

    def scenario(d):
        yield from d.tap(d.find(id="btn_repair"))
        repair = app.screen("repair")
        yield from d.tap(d.find(text="居家维修"))
        yield from d.tap(d.find(text="灯不亮"))
        yield from d.tap(d.find(id="skip_location"))
        yield from d.tap(d.find(id="room_skip"))
        yield from give_phone(d, repair)
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: repair.step == "ticket", 10, "the repair ticket")
        yield from d.tap(d.find(id="home"))
        yield from d.wait(lambda: app.services.voice.status().state != "loading", 30, "voice to settle")
        app.navigate("voice")
        yield from d.frames(2)
        voice = app.screen("voice")
        voice.understand("电梯里有人被困住了")
        yield from d.frames(2)
        yield from d.tap(d.find(id="add_phone"))
        yield from give_phone(d, voice)
        yield from d.tap(d.find(id="confirm_yes"))
        yield from d.wait(lambda: voice.step == "ticket", 10, "the voice ticket")
        yield from d.tap(d.find(id="home"))
        emergency = app.screen("emergency")
        emergency.countdown_s = 1
        yield from d.tap(d.find(id="btn_emergency"))
        yield from d.wait(lambda: emergency.step == "notified" and emergency.ticket, 10, "已通知物业")
        yield from d.tap(d.find(id="leave_phone"))
        yield from give_phone(d, emergency)
        yield from d.wait(lambda: emergency.phone_state == "sent", 10, "the number saved")
        yield from d.tap(d.find(id="home"))
        yield from d.frames(2)

    try:
        run_app(app, scenario, timeout=120)
        got = wait_until(lambda: [r for r in central.requests() if r["contact"].get("phone") == phone and
                                  r.get("kiosk_id") == "kiosk-f"] if len(central.requests()) >= 4 else [],
                         30, "the central to receive the numbers")
        assert len(got) == 3, "the phone never reached the central server: the scan would prove nothing"
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(keep)
            lg.setLevel(level)
        agent.stop()
        central.stop()
    logs = {"kiosk (every logger, DEBUG)": "\n".join(keep.lines), "agent.log": agent.text(),
            "central.log": central.proc.text()}
    logs |= {p.name: p.read_text(errors="replace") for p in Path(tmp_path).rglob("*.log")}
    assert logs["kiosk (every logger, DEBUG)"].strip() and logs["agent.log"].strip()
    written = re.compile(r"\D{0,2}".join(phone))          # also 139 5724 6813 or 139-5724-6813
    leaks = [name for name, text in logs.items() if written.search(text)]
    assert leaks == [], f"the phone number appears in {leaks}"
