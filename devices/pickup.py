"""One parcel pick-up: try the code at every candidate locker bank in turn.

A `bad_code` from one bank is not a wrong code until every bank has said so; then exactly one
wrong attempt is counted (not one per bank). Any other failure (timeout, jam, offline) means the
code may be right at a bank that could not answer, so nothing is counted and that error is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from devices.errors import DeviceError, DevicesError, WrongCode
from devices.kinds import locker
from devices.pickup_guard import PickupGuard

log = logging.getLogger(__name__)

SendFn = Callable[[str, str, dict[str, Any]], "Future[dict[str, Any]]"]


class PickupAttempt:
    """Drives the per-bank commands through future callbacks; resolves `result` once."""

    def __init__(self, send: SendFn, guard: PickupGuard, code: str, banks: list[str]) -> None:
        self._send, self._guard, self._code = send, guard, code
        self._banks = list(banks)
        self._other: DevicesError | None = None
        self.result: Future[dict[str, Any]] = Future()

    def start(self) -> Future[dict[str, Any]]:
        self._next()
        return self.result

    def _next(self) -> None:
        if not self._banks:
            self._finish()
            return
        bank = self._banks.pop(0)
        fut = self._send(bank, "pickup", {"code": self._code})
        fut.add_done_callback(lambda f, bank=bank: self._answered(bank, f))

    def _answered(self, bank: str, fut: Future[dict[str, Any]]) -> None:
        err = fut.exception()
        if err is None:
            compartment = fut.result().get("compartment")
            if isinstance(compartment, str) and locker.COMPARTMENT.match(compartment):
                self.result.set_result({"locker": bank, "compartment": compartment})
                return
            log.warning("locker %s answered pickup without a valid compartment", bank)
            err = DeviceError("internal", "reply without a compartment")
        if not (isinstance(err, DeviceError) and err.code == "bad_code"):
            self._other = self._other or (err if isinstance(err, DevicesError) else DevicesError(str(err)))
        self._next()

    def _finish(self) -> None:
        if self._other is not None:
            self.result.set_exception(self._other)
            return
        left = self._guard.record_wrong()
        log.info("pick-up code refused by every locker bank; %d attempts left", left)
        self.result.set_exception(WrongCode(left))
