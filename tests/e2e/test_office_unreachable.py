"""Whole stack: a request made while the central server is down is accepted at once, then delivered.

Real mosquitto, simulators, outbox, sync agent and reference central server
(kiosk.building), and the real app driven by taps (kiosk.tour) in this process.
"""

from __future__ import annotations

import json
import logging
import re

import pytest

from kiosk import config
from kiosk.building import BuildingPlan, SimulatedBuilding
from kiosk.tour import Step, StepFailed, Tour, TourValues
from kiosk.tour_steps import ask, kiosk_steps

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_a_request_made_while_the_office_is_unreachable_is_kept_and_delivered_later(tmp_path, caplog):
    from kiosk.app import KioskApp

    caplog.set_level(logging.DEBUG)
    values = TourValues()
    plan = BuildingPlan(doors=1, lockers=0, health=0, spoken_text=None)
    with SimulatedBuilding(plan, run_dir=tmp_path / "run") as building:
        building.stop_part("central")
        app = KioskApp(config.load(str(building.config_path)))
        steps = kiosk_steps(building, values)
        requests = app.services.requests

        def while_down(tour: Tour):
            yield from tour.wait_for(lambda: not requests.network_ok(), "the kiosk to notice the office is down", 60)
            yield from steps.voice_request(tour)
            if not tour.current_screen().offline:
                raise StepFailed("the ticket screen does not say the request will be sent later")
            yield from tour.wait_text(tour.app.tr("request.queued_offline"))
            view = yield from ask(tour, requests.get, tour.result("while-down").produced["request_id"], what="it")
            tour.record(delivery=view.delivery)

        def office_back(tour: Tour):
            request_id = tour.result("while-down").produced["request_id"]
            yield from tour.background(lambda: building.start_part("central"), "the central server to start", 60)
            view = yield from steps.wait_delivered(tour, request_id)
            pool = yield from tour.background(lambda: building.staff_request("GET", "/staff/v1/requests"),
                                              "the staff's demand pool")
            tour.record(central_ticket=view.ticket, in_pool=[r["id"] for r in pool["requests"]].count(request_id))
            yield from steps.find_by_room(tour)
            yield from tour.wait_text(view.ticket)
            yield from tour.wait_text(tour.app.tr("progress.status_pending"))

        tour = Tour(app, [Step("while-down", while_down), Step("office-back", office_back, needs=("while-down",))],
                    tmp_path / "out")
        tour.start()
        app.run()

    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [(s["step"], s["ok"], s["error"]) for s in summary["steps"]] == [
        ("while-down", True, None), ("office-back", True, None)]
    down, back = (s["produced"] for s in summary["steps"])
    assert down["ticket"].startswith("K-") and down["delivery"] in ("pending", "sending")
    assert back["central_ticket"] and back["central_ticket"] != down["ticket"] and back["in_pool"] == 1

    # the retry and failure paths log nothing personal either (kiosk in this process, the rest in files)
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in building.log_files()}
    logs["kiosk (this process)"] = "\n".join(r.getMessage() for r in caplog.records)
    assert re.search(r"refused|failed|unreachable", logs["agent.log"], re.I)  # the agent met the closed door
    leaks = [(name, what) for name, text in logs.items() for what, value in values.secrets().items()
             if value in text.replace(" ", "")]
    assert leaks == []
