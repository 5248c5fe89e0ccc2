"""Simulated serial hardware on the far end of a tty (a pty master fd): a Visomat-style
blood-pressure monitor and Kerong CU16 locker boards. They speak the byte protocols of
devices/serial/ so the bridge is tested against real ttys, and can inject line noise."""

from __future__ import annotations

import os
import select
import threading
from datetime import datetime

from devices.messages import Reading
from devices.serial import kerong, visomat

NOISE = b"\x00\xff\x13garbage\x02M1\x03\x7f"


class _TtyDevice:
    """Reads requests from `fd` on its own thread and answers them."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.noise = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> _TtyDevice:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def write(self, data: bytes) -> None:
        try:
            os.write(self.fd, (NOISE if self.noise else b"") + data)
        except OSError:
            pass  # nobody on the other end (cable pulled): a real device would not notice either

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.05)
                data = os.read(self.fd, 4096) if ready else b""
            except OSError:
                self._stop.wait(0.05)  # no reader opened the tty yet
                continue
            if data:
                self.on_data(data)

    def on_data(self, data: bytes) -> None:
        raise NotImplementedError


class SimVisomat(_TtyDevice):
    """Answers `R00` with its memory; `measure()` stores a new record like a finished measurement."""

    def __init__(self, fd: int, user: int = 1) -> None:
        super().__init__(fd, "sim-visomat")
        self.user = user
        self.capacity = 60  # the count field has two digits; real monitors keep about 60 per user
        self.records: list[visomat.Record] = []
        self.requests = 0
        self._splitter = visomat.FrameSplitter()

    def measure(self, reading: Reading, at: datetime | None = None) -> None:
        at = (at or datetime.now()).replace(second=0, microsecond=0)
        self.records.append(visomat.Record(self.user, at, int(reading.irregular), reading.systolic,
                                           reading.diastolic, reading.pulse))
        del self.records[:-self.capacity]  # a full memory drops its oldest record

    def on_data(self, data: bytes) -> None:
        for payload in self._splitter.feed(data):
            if payload == visomat.REQUEST_MEMORY:
                self.requests += 1
                self.write(visomat.frame(visomat.encode_memory({self.user: list(self.records)})))


class SimKerongBoards(_TtyDevice):
    """CU16 boards on one RS-485 bus; `jammed` locks never open; `close(board, lock)` shuts a door."""

    def __init__(self, fd: int, boards: list[int]) -> None:
        super().__init__(fd, "sim-kerong")
        self.open_bits = dict.fromkeys(boards, 0)
        self.item_bits = dict.fromkeys(boards, 0)
        self.jammed: set[tuple[int, int]] = set()
        self._reader = kerong.CommandReader()

    def close(self, board: int, lock: int) -> None:
        self.open_bits[board] &= ~(1 << lock)

    def on_data(self, data: bytes) -> None:
        for board, lock, cmd in self._reader.feed(data):
            if board not in self.open_bits:
                continue  # another board's address: silence, as on a real bus
            if cmd == kerong.CMD_UNLOCK and (board, lock) not in self.jammed:
                self.open_bits[board] |= 1 << lock
                self.item_bits[board] &= ~(1 << lock)
            self.write(kerong.BoardStatus(board, self.open_bits[board], self.item_bits[board]).encode())
