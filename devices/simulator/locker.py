"""A simulated parcel-locker bank: codes from a seed list open one occupied compartment once."""

from __future__ import annotations

from typing import Any

from devices.endpoint import Respond
from devices.kinds import locker
from devices.messages import Reply, now_iso
from devices.simulator.base import SimDevice

# A compartment lock takes tens of milliseconds to release before its door switch reports
# `door_opened`; the delay also keeps that report (and the full state) from contending with
# the reply on its way out.
LATCH_S = 0.05


class SimLocker(SimDevice):
    kind = locker.KIND

    def __init__(self, *args: Any, compartments: int = 24, codes: list[str] | None = None,
                 door_close_s: float = 2.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = locker.compartment_names(compartments)
        self.occupied = dict.fromkeys(names, False)
        self.open_doors: set[str] = set()
        self.codes: dict[str, str] = {}
        self.door_close_s = door_close_s
        for i, code in enumerate(codes or []):
            name = names[i % len(names)]
            self.codes[code] = name
            self.occupied[name] = True

    def state(self) -> dict[str, Any]:
        compartments = {name: locker.Compartment(occ, name in self.open_doors)
                        for name, occ in self.occupied.items()}
        return locker.State(compartments, self.fault_code(), now_iso()).to_dict()

    def handle(self, op: str, args: dict[str, Any], respond: Respond, cmd_id: str) -> None:
        if op == "pickup":
            name = self.codes.pop(args["code"], None)
            if name is None:
                respond(Reply.failure(cmd_id, "bad_code", "unknown or used code"))
                return
            self.occupied[name] = False
            respond(Reply.success(cmd_id, {"compartment": name}))
            self.later(LATCH_S, self._open, name)  # the reply leaves first; the door reports after
        elif op == "open":
            name = args["compartment"]
            if name not in self.occupied:
                respond(Reply.failure(cmd_id, "not_found", f"no compartment {name}"))
                return
            respond(Reply.success(cmd_id))
            self.later(LATCH_S, self._open, name)

    def _open(self, name: str) -> None:
        with self._lock:
            self.open_doors.add(name)
            self.publish_event("door_opened", now_iso(), compartment=name)
            self.publish_state()
        self.later(self.door_close_s, self._close, name)

    def _close(self, name: str) -> None:
        with self._lock:
            if name in self.open_doors:
                self.open_doors.discard(name)
                self.publish_event("door_closed", now_iso(), compartment=name)
                self.publish_state()
