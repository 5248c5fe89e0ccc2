"""A simulated door-access controller: `unlock` opens the lock for N seconds."""

from __future__ import annotations

from typing import Any

from devices.endpoint import Respond
from devices.kinds import door
from devices.messages import Reply, now_iso
from devices.simulator.base import SimDevice


class SimDoor(SimDevice):
    kind = door.KIND

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = True
        self._unlocks = 0

    def state(self) -> dict[str, Any]:
        return door.State(self.locked, False, self.fault_code(), now_iso()).to_dict()

    def handle(self, op: str, args: dict[str, Any], respond: Respond, cmd_id: str) -> None:
        if op == "unlock":
            self.locked = False
            self._unlocks += 1
            self.publish_event("access_granted", now_iso(), method="remote")
            self.publish_state()
            self.later(args["seconds"], self._relock, self._unlocks)
            respond(Reply.success(cmd_id))

    def _relock(self, unlock_no: int) -> None:
        with self._lock:
            if unlock_no == self._unlocks:  # a later unlock extends the time
                self.locked = True
                self.publish_state()
