"""A simulated blood-pressure station: `measure` takes a few seconds, then a plausible reading."""

from __future__ import annotations

from typing import Any

from devices.endpoint import Respond
from devices.kinds import health
from devices.messages import Reading, Reply, now_iso
from devices.simulator.base import SimDevice


class SimHealth(SimDevice):
    kind = health.KIND

    def __init__(self, *args: Any, measure_s: float = 3.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measure_s = measure_s
        self.measuring = False

    def state(self) -> dict[str, Any]:
        return health.State(not self.measuring and self.fault is None, True, self.fault_code(), now_iso()).to_dict()

    def handle(self, op: str, args: dict[str, Any], respond: Respond, cmd_id: str) -> None:
        if op == "measure":
            if self.measuring:
                respond(Reply.failure(cmd_id, "busy", "a measurement is running"))
                return
            self.measuring = True
            self.publish_state()
            respond(Reply.success(cmd_id))
            self.later(self.measure_s, self._finish)

    def reading(self) -> Reading:
        """A plausible reading for an older resident."""
        r = self.rng
        systolic = r.randint(108, 158)
        return Reading(systolic, r.randint(62, min(98, systolic - 30)), r.randint(56, 96), r.random() < 0.05)

    def _finish(self) -> None:
        with self._lock:
            self.measuring = False
            if self.fault == "jam":
                self.publish_event("measurement_failed", now_iso(), code="jammed")
            else:
                self.publish_event("reading", now_iso(), **self.reading().to_fields())
            self.publish_state()
