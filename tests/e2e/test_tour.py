"""kiosk.tour on the real app (offline services): steps, failures, skips, screenshots, summary.json."""

from __future__ import annotations

import json

from kiosk import config
from kiosk.tour import Step, StepFailed, Tour


def _app(tmp_path):
    from kiosk.app import KioskApp
    from kiosk.services import Services

    cfg = config.from_document({"site": {"state_dir": str(tmp_path / "state")}, "ui": {"fullscreen": False}})
    return KioskApp(cfg, services=Services.offline(cfg))


def test_a_tour_records_what_passed_what_failed_and_what_was_skipped(tmp_path):
    app = _app(tmp_path)

    def open_technician(tour: Tour):
        yield from tour.wait_screen("home")
        yield from tour.tap_id("btn_technician")
        yield from tour.wait_screen("technician")
        yield from tour.tap_digits("123")
        tour.record(typed=tour.keypad().value)

    def never(tour: Tour):
        yield from tour.wait_text("这句话不会出现", timeout=0.5)

    def after_never(tour: Tour):
        raise StepFailed("must not run")
        yield

    def broken(tour: Tour):
        yield
        raise KeyError("a bug in a step")

    out = tmp_path / "out"
    tour = Tour(app, [Step("technician", open_technician), Step("never", never), Step("after", after_never, needs=("never",)),
                      Step("broken", broken)], out)
    tour.start()
    app.run()

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert tour.finished and not tour.ok and summary["ok"] is False and summary["finished"] is True
    steps = {s["step"]: s for s in summary["steps"]}
    assert steps["technician"]["ok"], steps["technician"]["error"]
    assert steps["technician"]["produced"] == {"typed": "123"}
    assert steps["technician"]["screenshot"] == "01-technician.png"
    assert not steps["never"]["ok"] and "timed out waiting for the words '这句话不会出现'" in steps["never"]["error"]
    assert steps["never"]["screenshot"] == "02-never-failed.png"
    assert steps["after"]["error"] == "skipped: needs never" and steps["after"]["screenshot"] is None
    assert steps["broken"]["error"].startswith("KeyError")
    for s in summary["steps"]:
        if s["screenshot"]:
            assert (out / s["screenshot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # after a failure the tour went home, so the next step started clean
    assert app.sm.current == "home"
