"""The steps of the demo tour: what a resident, the office and a technician do, by taps.

Every step drives the real app on a simulated building (kiosk.building) by
tapping the widgets a person would tap (found by their kv ids), waits for
what the screen shows (its words, and screen properties such as `step`) and
records what it produced. Two entries are not taps: `app.navigate("voice",
source="file://...")`, which makes the voice screen listen to the synthesized
WAV, and `VoiceScreen.understand(text)`, the entry the recogniser's final
result takes, used when no voice model is installed so the request is typed
through the same parse -> confirmation -> submit path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.tour import Step, StepFailed, StepGen, Tour, TourValues, is_shown

DEVICE_WAIT_S = 30.0
SYNC_WAIT_S = 60.0


def demo_steps(building: Any, values: TourValues) -> list[Step]:
    """The tour of `lobby-kiosk demo`, bound to a running SimulatedBuilding."""
    s = kiosk_steps(building, values)
    return [
        Step("home", s.home),
        Step("voice-request", s.voice_request),
        Step("parcel-pickup", s.parcel_pickup),
        Step("blood-pressure", s.blood_pressure),
        Step("staff-done", s.staff_done, needs=("voice-request",)),
        Step("status-at-kiosk", s.status_at_kiosk, needs=("staff-done",)),
        Step("technician", s.technician),
    ]


def ask(tour: Tour, call: Callable[..., Any], *args: Any, what: str, **kw: Any) -> StepGen:
    """Call a service-layer method that answers through on_done/on_error, and wait for the answer."""
    box: dict[str, Any] = {}
    call(*args, on_done=lambda value=None: box.setdefault("value", value),
         on_error=lambda err=None: box.setdefault("error", err), **kw)
    yield from tour.wait_for(lambda: box, what)
    if "error" in box:
        raise StepFailed(f"{what}: {box['error']}")
    return box["value"]


def kiosk_steps(building: Any, values: TourValues) -> KioskSteps:
    """The step functions (and their helpers) bound to a building, for tours of one's own."""
    return KioskSteps(building, values)


class KioskSteps:
    """What a resident, the office and a technician do; each public method is a tour step or helper."""

    def __init__(self, building: Any, values: TourValues) -> None:
        self.building = building
        self.values = values

    def go_home(self, tour: Tour) -> StepGen:
        if tour.current_name() != "home":
            nav = tour.current_screen().ids.get("nav")
            button = nav.ids.get("home") if nav is not None else None
            if button is not None and is_shown(button):
                yield from tour.tap(button)  # 首页 in the top bar
            else:
                tour.app.go_home()
        yield from tour.wait_screen("home")

    def open_from_home(self, tour: Tour, button_id: str, screen: str) -> StepGen:
        yield from self.go_home(tour)
        yield from tour.tap_id(button_id)
        yield from tour.wait_screen(screen)

    # -- the steps -------------------------------------------------------------------

    def home(self, tour: Tour) -> StepGen:
        yield from tour.wait_screen("home")
        yield from tour.wait_text(self.building.plan.building_name)
        services = tour.services
        yield from tour.wait_for(lambda: services.devices.available("locker") and services.devices.available("health"),
                                 "the locker and the health station to be online", DEVICE_WAIT_S)
        yield 1.0  # Home refreshes its notices about what is unavailable
        tour.record(building=self.building.plan.building_name)

    def voice_request(self, tour: Tour) -> StepGen:
        wav = self.building.spoken_wav
        voice = tour.services.voice
        yield from tour.wait_for(lambda: voice.status().state != "loading", "the voice model to load", 90)
        spoken = wav is not None and voice.status().state == "ready"
        yield from self.go_home(tour)
        if spoken:
            tour.app.navigate("voice", source=f"file://{wav}")
            yield from tour.wait_screen("voice")
            yield from tour.tap_id("mic_button")
            tour.record(input="spoken")
        else:
            # 说一说 is greyed out without a model (Home says why); go to the voice screen as a
            # tap would, and hand it the words where the recogniser's final result goes
            tour.app.navigate("voice")
            yield from tour.wait_screen("voice")
            tour.current_screen().understand(self.values.spoken_text)
            tour.record(input="typed", voice=tour.services.voice.status().state)
        screen = tour.current_screen()
        yield from tour.wait_for(lambda: screen.step in ("confirm", "choose"), "the confirmation card", 40)
        if screen.step == "choose":
            yield from tour.tap_id("choice_a")
        yield from tour.tap_id("add_room")
        yield from tour.tap_digits(self.values.room)
        yield from tour.tap_id("room_ok")
        yield from tour.tap_id("add_phone")
        yield from tour.tap_digits(self.values.phone)
        yield from tour.tap_id("phone_ok")
        yield from tour.tap_id("confirm_yes")
        yield from tour.wait_for(lambda: screen.step == "ticket" and screen.ticket, "the ticket")
        yield from tour.wait_text(screen.ticket)
        found = yield from ask(tour, tour.services.requests.find, ticket=screen.ticket,
                               what="the request in the outbox")
        if not found or found[0].room != self.values.room or found[0].phone != self.values.phone:
            raise StepFailed("the confirmed request is not in the outbox with the room and phone entered")
        req = found[0]
        tour.record(ticket=req.local_ticket, request_id=req.id, category=req.category, urgency=req.urgency)

    def parcel_pickup(self, tour: Tour) -> StepGen:
        yield from self.open_from_home(tour, "btn_parcel", "parcel")
        screen = tour.current_screen()
        yield from tour.tap_digits(self.values.pickup_code)
        yield from tour.tap_id("open_button")
        yield from tour.wait_for(lambda: screen.step in ("opened", "failed", "locked"), "the locker's answer",
                                 DEVICE_WAIT_S)
        if screen.step != "opened":
            raise StepFailed(f"the locker did not open: {screen.step}")
        yield from tour.wait_text(screen.compartment)
        tour.record(compartment=screen.compartment)

    def blood_pressure(self, tour: Tour) -> StepGen:
        yield from self.open_from_home(tour, "btn_health", "health")
        screen = tour.current_screen()
        yield from tour.tap_id("start_button")
        yield from tour.wait_for(lambda: screen.step in ("result", "failed"), "the reading", 60)
        if screen.step != "result":
            raise StepFailed("the measurement failed")
        reading = {"systolic": int(screen.systolic), "diastolic": int(screen.diastolic),
                   "pulse": int("".join(ch for ch in screen.pulse if ch.isdigit()))}
        yield from tour.wait_text(screen.systolic)
        yield from tour.tap_id("consent_yes")
        yield from tour.wait_for(lambda: screen.consent in ("sent", "failed"), "the reading to be stored")
        if screen.consent != "sent":
            raise StepFailed("the reading was not stored after consent")
        tour.record(reading=reading, shared=True)

    def staff_done(self, tour: Tour) -> StepGen:
        produced = tour.result("voice-request").produced
        request_id = produced["request_id"]
        view = yield from self.wait_delivered(tour, request_id)
        yield from self.find_by_room(tour)
        done = yield from tour.background(
            lambda: self.building.staff_set_status(request_id, "done", note="灯已换好"),
            what="the office marking the request done")
        if not isinstance(done, dict) or done.get("status") != "done":
            raise StepFailed("the central server did not take the new status")
        # what the office sees: the channel, and how much of what was heard (never the words here)
        tour.record(request_id=request_id, central_ticket=view.ticket, status_before=view.status,
                    status="done", channel=done.get("channel"), heard_chars=len(done.get("transcript") or ""))

    def status_at_kiosk(self, tour: Tour) -> StepGen:
        produced = tour.result("staff-done").produced
        done = tour.app.tr("progress.status_done")
        for _ in range(int(SYNC_WAIT_S)):
            view = yield from ask(tour, tour.services.requests.get, produced["request_id"], what="the request")
            if view is not None and view.status == "done":
                break
            yield 1.0
        else:
            raise StepFailed("the agent never brought the office's update back")
        screen = tour.current_screen()
        if screen.name != "progress":
            yield from self.find_by_room(tour)
        else:
            yield from tour.tap_id("search_again")
            yield from self.search_room(tour)
        yield from tour.wait_text(done)
        yield from tour.wait_text(produced["central_ticket"])
        tour.record(ticket=tour.result("voice-request").produced["ticket"],
                    central_ticket=produced["central_ticket"], status="done")

    def technician(self, tour: Tour) -> StepGen:
        yield from self.open_from_home(tour, "btn_technician", "technician")
        screen = tour.current_screen()
        yield from tour.tap_digits(self.values.technician_pin)
        yield from tour.tap_id("confirm")
        yield from tour.wait_for(lambda: screen.unlocked, "the PIN to be accepted")
        ids = sorted(info.id for info in tour.services.devices.snapshot())
        if len(ids) < self.building.plan.device_count:
            raise StepFailed(f"the kiosk knows {len(ids)} devices, the building has {self.building.plan.device_count}")
        yield from tour.wait_text(ids[0])
        tour.record(devices=len(ids))

    # -- helpers ------------------------------------------------------------------------

    def wait_delivered(self, tour: Tour, request_id: str) -> StepGen:
        for _ in range(int(SYNC_WAIT_S * 2)):
            view = yield from ask(tour, tour.services.requests.get, request_id, what="the request")
            if view is not None and view.delivery == "delivered" and view.ticket:
                return view
            yield 0.5
        raise StepFailed("the agent did not deliver the request to the central server")

    def find_by_room(self, tour: Tour) -> StepGen:
        yield from self.open_from_home(tour, "btn_progress", "progress")
        yield from self.search_room(tour)

    def search_room(self, tour: Tour) -> StepGen:
        screen = tour.current_screen()
        yield from tour.tap_id("by_room")
        yield from tour.tap_digits(self.values.room)
        yield from tour.tap_id("find_button")
        yield from tour.wait_for(lambda: screen.step == "list" and screen.results, "the request in the list")
