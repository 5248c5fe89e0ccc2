"""Kerong KR-CU16 parcel-locker control board protocol (RS-485, 19200 8N1 by default).

Source: the Kerong CU16 communication protocol as implemented in kerong-lib
(https://github.com/suryavirkapur/kerong-lib, src/kerong_client.cpp). Commands are 5 bytes
`02 ADDR CMD 03 SUM`, ADDR = board << 4 | lock (lock 0..15), SUM = sum of the preceding bytes
& 0xFF. `0x30` asks a board's status, `0x31` unlocks one lock. The board answers a status
query with 9 bytes `02 ADDR 35 L1 L2 I1 I2 03 SUM`: L1/L2 the lock bitmap of locks 1-8 / 9-16
(bit set = hook open), I1/I2 the infrared (item present) bitmap. See docs/serial-protocols.md.
"""

from __future__ import annotations

from dataclasses import dataclass

STX, ETX = 0x02, 0x03
CMD_STATUS, CMD_UNLOCK, RESP_STATUS = 0x30, 0x31, 0x35
LOCKS_PER_BOARD = 16
STATUS_LEN, COMMAND_LEN = 9, 5


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def command(board: int, lock: int, cmd: int) -> bytes:
    """A 5-byte command frame."""
    if not 0 <= board <= 15 or not 0 <= lock <= 15:
        raise ValueError("board and lock are 0..15")
    body = bytes([STX, (board << 4) | lock, cmd, ETX])
    return body + bytes([checksum(body)])


@dataclass(frozen=True)
class BoardStatus:
    """One board's answer: bit i of `open_bits` / `item_bits` is lock i+1."""

    board: int
    open_bits: int
    item_bits: int

    def door_open(self, lock: int) -> bool:
        return bool(self.open_bits >> lock & 1)

    def occupied(self, lock: int) -> bool:
        return bool(self.item_bits >> lock & 1)

    def encode(self) -> bytes:
        body = bytes([STX, self.board << 4, RESP_STATUS, self.open_bits & 0xFF, self.open_bits >> 8,
                      self.item_bits & 0xFF, self.item_bits >> 8, ETX])
        return body + bytes([checksum(body)])


class _Scanner:
    """Finds fixed-length frames in a byte stream; on a bad frame it drops one byte and rescans."""

    length = 0

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0

    def _valid(self, frame: bytes) -> bool:
        raise NotImplementedError

    def _frames(self, data: bytes) -> list[bytes]:
        self._buf += data
        out = []
        while True:
            start = self._buf.find(STX)
            if start < 0:
                self.skipped += len(self._buf)
                self._buf.clear()
                return out
            if start:
                self.skipped += start
                del self._buf[:start]
            if len(self._buf) < self.length:
                return out
            candidate = bytes(self._buf[:self.length])
            if self._valid(candidate):
                out.append(candidate)
                del self._buf[:self.length]
            else:
                self.skipped += 1
                del self._buf[:1]


class StatusReader(_Scanner):
    """Host side: board status answers out of a noisy stream."""

    length = STATUS_LEN

    def _valid(self, f: bytes) -> bool:
        return f[2] == RESP_STATUS and f[7] == ETX and f[1] & 0x0F == 0 and checksum(f[:8]) == f[8]

    def feed(self, data: bytes) -> list[BoardStatus]:
        return [BoardStatus(f[1] >> 4, f[3] | f[4] << 8, f[5] | f[6] << 8) for f in self._frames(data)]


class CommandReader(_Scanner):
    """Board side (the simulated board): command frames out of a noisy stream."""

    length = COMMAND_LEN

    def _valid(self, f: bytes) -> bool:
        return f[3] == ETX and f[2] in (CMD_STATUS, CMD_UNLOCK) and checksum(f[:4]) == f[4]

    def feed(self, data: bytes) -> list[tuple[int, int, int]]:
        """(board, lock, cmd) of each valid command."""
        return [(f[1] >> 4, f[1] & 0x0F, f[2]) for f in self._frames(data)]
