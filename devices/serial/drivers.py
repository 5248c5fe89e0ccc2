"""Protocol drivers of the serial bridge: what to poll, how to turn answers into contract state
and events, and how to run contract ops as serial frames. One driver per protocol."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serial

from devices.endpoint import Respond
from devices.kinds import health, locker
from devices.messages import Command, Reply, now_iso
from devices.serial import kerong, visomat
from devices.throttle import ThrottledLog

log = logging.getLogger(__name__)
_drops = ThrottledLog(log)

PublishState = Callable[[], None]
PublishEvent = Callable[..., None]


class Driver:
    """Base: subclasses implement the protocol."""

    kind = ""

    def __init__(self, publish_state: PublishState, publish_event: PublishEvent) -> None:
        self.publish_state, self.publish_event = publish_state, publish_event

    def reset(self) -> None:
        """The port was (re)opened."""

    def state(self, online: bool) -> dict[str, Any]:
        raise NotImplementedError

    def poll(self, port: serial.SerialBase) -> bool:
        """Ask the device for news; True if it answered validly."""
        raise NotImplementedError

    def execute(self, port: serial.SerialBase, cmd: Command, args: dict[str, Any], respond: Respond) -> None:
        raise NotImplementedError


class VisomatDriver(Driver):
    """Blood-pressure monitor: polls the memory with `R00`; each new record is a `reading` event.
    `measure` cannot start the cuff remotely: it marks the station busy until the resident's
    measurement (started on the device) arrives, or `measure_timeout_s` passes."""

    kind = health.KIND

    def __init__(self, publish_state: PublishState, publish_event: PublishEvent, measure_timeout_s: float = 180) -> None:
        super().__init__(publish_state, publish_event)
        self.measure_timeout_s = measure_timeout_s
        self._seen: set[visomat.Record] | None = None
        self._splitter = visomat.FrameSplitter()
        self._measuring_since: float | None = None

    def reset(self) -> None:
        self._seen = None
        self._splitter = visomat.FrameSplitter()

    def state(self, online: bool) -> dict[str, Any]:
        return health.State(online and self._measuring_since is None, online,
                            None if online else "offline", now_iso()).to_dict()

    def poll(self, port: serial.SerialBase) -> bool:
        port.write(visomat.frame(visomat.REQUEST_MEMORY))
        deadline = time.monotonic() + 0.8
        answered = False
        while time.monotonic() < deadline and not answered:
            for payload in self._splitter.feed(port.read(4096)):
                try:
                    records, bad = visomat.parse_memory(payload)
                except visomat.FrameError as err:
                    _drops.warning("visomat-frame", "visomat: skipped a bad frame: %s", err)
                    continue
                if bad:
                    _drops.warning("visomat-record", "visomat: skipped %d invalid record(s)", bad)
                self._absorb(records)
                answered = True
        if self._measuring_since is not None and time.monotonic() - self._measuring_since > self.measure_timeout_s:
            self._measuring_since = None
            self.publish_event("measurement_failed", code="expired")
            self.publish_state()
        return answered

    def _absorb(self, records: list[visomat.Record]) -> None:
        if self._seen is None:  # first answer after (re)opening: the baseline, not news
            self._seen = set(records)
            return
        new = sorted((r for r in records if r not in self._seen), key=lambda r: r.taken_at)
        for record in new:
            self._seen.add(record)
            self.publish_event("reading", **record.reading().to_fields())
        if new and self._measuring_since is not None:
            self._measuring_since = None
            self.publish_state()

    def execute(self, port: serial.SerialBase, cmd: Command, args: dict[str, Any], respond: Respond) -> None:
        if cmd.op == "measure":
            if self._measuring_since is not None:
                respond(Reply.failure(cmd.id, "busy", "a measurement is running"))
                return
            self._measuring_since = time.monotonic()
            self.publish_state()
            respond(Reply.success(cmd.id))


class KerongDriver(Driver):
    """CU16 locker boards: polls every board's status; `open` and `pickup` unlock one lock and
    confirm it opened. Compartments are named by board order: A01-A16, B01-B16, ..."""

    kind = locker.KIND

    def __init__(self, publish_state: PublishState, publish_event: PublishEvent, boards: list[int],
                 codes_file: Path | None = None) -> None:
        super().__init__(publish_state, publish_event)
        self.boards = boards
        self.codes_file = codes_file
        self.names = {f"{chr(ord('A') + i)}{lock + 1:02d}": (board, lock)
                      for i, board in enumerate(boards) for lock in range(kerong.LOCKS_PER_BOARD)}
        self._status: dict[int, kerong.BoardStatus] = {}
        self._reader = kerong.StatusReader()

    def reset(self) -> None:
        self._reader = kerong.StatusReader()

    def state(self, online: bool) -> dict[str, Any]:
        compartments = {}
        statuses = dict(self._status)  # one atomic copy: the serial thread updates it
        for name, (board, lock) in self.names.items():
            st = statuses.get(board)
            compartments[name] = locker.Compartment(bool(st and st.occupied(lock)), bool(st and st.door_open(lock)))
        return locker.State(compartments, None if online else "offline", now_iso()).to_dict()

    def _query(self, port: serial.SerialBase, board: int, timeout: float = 0.5) -> kerong.BoardStatus | None:
        port.write(kerong.command(board, 0, kerong.CMD_STATUS))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for status in self._reader.feed(port.read(64)):
                if status.board == board:
                    return status
        return None

    def poll(self, port: serial.SerialBase) -> bool:
        answered = True
        for board in self.boards:
            status = self._query(port, board)
            if status is None:
                answered = False
            else:
                self._update(status)
        return answered

    def _update(self, status: kerong.BoardStatus) -> None:
        old = self._status.get(status.board)
        self._status[status.board] = status
        if old == status:
            return
        if old is not None:
            for name, (board, lock) in self.names.items():
                if board == status.board and old.door_open(lock) != status.door_open(lock):
                    self.publish_event("door_opened" if status.door_open(lock) else "door_closed", compartment=name)
        self.publish_state()

    def _unlock(self, port: serial.SerialBase, board: int, lock: int) -> bool:
        port.write(kerong.command(board, lock, kerong.CMD_UNLOCK))
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            status = self._query(port, board, 0.3)
            if status is not None:
                self._update(status)
                if status.door_open(lock):
                    return True
        return False

    def execute(self, port: serial.SerialBase, cmd: Command, args: dict[str, Any], respond: Respond) -> None:
        if cmd.op == "open":
            name = args["compartment"]
        else:  # pickup
            codes = self._codes()
            name = codes.get(args["code"])
            if not isinstance(name, str):
                respond(Reply.failure(cmd.id, "bad_code", "unknown or used code"))
                return
        if name not in self.names:
            respond(Reply.failure(cmd.id, "not_found", f"no compartment {name}"))
            return
        if not self._unlock(port, *self.names[name]):
            respond(Reply.failure(cmd.id, "jammed", f"compartment {name} did not open"))
            return  # a pick-up code stays valid when its door did not open
        if cmd.op == "pickup":
            del codes[args["code"]]
            self._save_codes(codes)
        respond(Reply.success(cmd.id, {"compartment": name} if cmd.op == "pickup" else {}))

    def _codes(self) -> dict[str, Any]:
        """The pick-up codes file (`{"123456": "A03"}`), re-read on every pick-up."""
        if self.codes_file is None:
            return {}
        try:
            codes = json.loads(self.codes_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.warning("codes file %s unreadable: %s", self.codes_file, type(err).__name__)
            return {}
        return codes if isinstance(codes, dict) else {}

    def _save_codes(self, codes: dict[str, Any]) -> None:
        """Rewrite the codes file atomically without the used code."""
        assert self.codes_file is not None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.codes_file.parent, prefix=".codes.")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(codes, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.codes_file)
        except OSError as err:  # the door is open already; the parcel system must hear of it
            log.error("cannot remove a used code from %s: %s", self.codes_file, err)
