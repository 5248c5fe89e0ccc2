"""What every simulated device shares: its endpoint and the injectable faults.

Faults: `jam` (state fault `jammed`, every op but `status` answers `jammed`), `offline`
(availability `offline`, no answers), `slow[:S]` (answers S seconds late, default 8),
`malformed` (garbage on the reply, state and event topics), `none` (healthy again).
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

from devices.endpoint import DeviceEndpoint, Respond
from devices.messages import Command, Event, Reply
from devices.settings import BrokerSettings
from devices.simulator.actions import DelayedActions

log = logging.getLogger(__name__)

FAULTS = ("jam", "offline", "slow", "malformed", "none")
GARBAGE = b'{"broken": tru\xff\xfe'


def parse_fault(spec: str) -> tuple[str | None, float]:
    """`jam`, `offline`, `slow`, `slow:2.5`, `malformed` or `none` -> (fault or None, slow seconds)."""
    name, _, arg = spec.strip().partition(":")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {spec!r} (one of {', '.join(FAULTS)})")
    seconds = 8.0
    if arg:
        try:
            seconds = float(arg)
        except ValueError:
            raise ValueError(f"bad seconds in fault {spec!r}") from None
    return (None if name == "none" else name), seconds


class SimDevice:
    """Base class: subclasses set `kind` and implement `state()` and `handle()`."""

    kind = ""

    def __init__(self, broker: BrokerSettings, building: str, device_id: str, *, keepalive: int = 30,
                 seed: int = 0) -> None:
        self.id = device_id
        self.fault: str | None = None
        self.slow_s = 8.0
        self.rng = random.Random(f"{seed}-{device_id}")
        self._lock = threading.RLock()
        self._actions = DelayedActions(f"sim-{device_id}-actions")
        self.endpoint = DeviceEndpoint(broker, building, self.kind, device_id, self._handle,
                                       keepalive=keepalive, control=self._control)

    # subclasses ----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def handle(self, op: str, args: dict[str, Any], respond: Respond, cmd_id: str) -> None:
        raise NotImplementedError

    # shared --------------------------------------------------------------------------------------
    def start(self) -> None:
        self.publish_state()
        self.endpoint.start()

    def stop(self, graceful: bool = True) -> None:
        self._actions.stop()
        self.endpoint.stop(graceful)

    def publish_state(self) -> None:
        if self.fault == "malformed":
            self.endpoint.publish_raw(self.endpoint.topic("state"), GARBAGE, retain=True)
        else:
            self.endpoint.publish_state(self.state())

    def publish_event(self, etype: str, ts: str, **fields: Any) -> None:
        if self.fault == "malformed":
            self.endpoint.publish_raw(self.endpoint.topic("event"), GARBAGE)
        else:
            self.endpoint.publish_event(Event(etype, ts, fields))

    def fault_code(self) -> str | None:
        return "jammed" if self.fault == "jam" else None

    def set_fault(self, spec: str) -> None:
        """Inject a fault (see the module docstring); `none` clears it."""
        fault, seconds = parse_fault(spec)
        with self._lock:
            self.fault, self.slow_s = fault, seconds
        self.endpoint.set_available(fault != "offline")
        self.publish_state()
        log.info("%s %s: fault %s", self.kind, self.id, fault or "cleared")

    def later(self, seconds: float, fn: Any, *args: Any) -> None:
        """Run `fn(*args)` after `seconds` on the device's action thread (things that take time)."""
        self._actions.later(seconds, fn, *args)

    def _control(self, payload: bytes) -> None:
        try:
            self.set_fault(payload.decode("utf-8", "replace"))
        except ValueError as err:
            log.warning("%s %s: %s", self.kind, self.id, err)

    def _handle(self, cmd: Command, args: dict[str, Any], respond: Respond) -> None:
        fault, slow_s = self.fault, self.slow_s
        if fault == "malformed":
            self.endpoint.publish_raw(cmd.reply_to, GARBAGE)
            return
        if fault == "slow":
            def respond_late(reply: Reply, respond: Respond = respond) -> None:
                self.later(slow_s, respond, reply)
            respond = respond_late
        if fault == "jam" and cmd.op != "status":
            respond(Reply.failure(cmd.id, "jammed", f"{self.kind} {self.id} is jammed"))
            return
        if cmd.op == "status":
            respond(Reply.success(cmd.id, self.state()))
            return
        with self._lock:
            self.handle(cmd.op, args, respond, cmd.id)
