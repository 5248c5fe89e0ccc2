"""Visomat double comfort / Prevention DS-2200PV blood-pressure monitor protocol.

Source: visomat-utils by Antonio Ospite (https://git.ao2.it/visomat-utils.git, README).
Packets are framed `STX payload ETX`. The host requests the measurement memory with `R00`; the
answer is one or more memory blocks `M u nn record*` (user digit, two-digit record count, and for
a count of 00 one dummy byte), each record 20 digits `yymmdd HHMM f sss ddd ppp` (date, time,
flag f, systolic, diastolic, pulse; f = 1 is taken as the irregular-heartbeat mark).
There is no checksum: a frame is accepted only if its length matches its record counts, every
field is digits, the date and time exist and the values are in range (systolic 50-300,
diastolic 30-200, pulse 30-250). See docs/serial-protocols.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from devices.messages import Reading

STX, ETX = 0x02, 0x03
REQUEST_MEMORY = b"R00"
MAX_FRAME = 8192
RECORD_LEN = 20


class FrameError(ValueError):
    """A frame that does not follow the protocol."""


@dataclass(frozen=True)
class Record:
    """One stored measurement."""

    user: int
    taken_at: datetime
    flag: int
    systolic: int
    diastolic: int
    pulse: int

    def reading(self) -> Reading:
        return Reading(self.systolic, self.diastolic, self.pulse, self.flag == 1)

    def encode(self) -> bytes:
        return (f"{self.taken_at:%y%m%d%H%M}{self.flag}{self.systolic:03d}{self.diastolic:03d}"
                f"{self.pulse:03d}").encode("ascii")


def frame(payload: bytes) -> bytes:
    return bytes([STX]) + payload + bytes([ETX])


class FrameSplitter:
    """Bytes in, complete payloads out. Bytes outside STX..ETX are noise and skipped; a new STX
    inside a frame restarts it (resynchronisation); overlong frames are dropped."""

    def __init__(self) -> None:
        self._buf: bytearray | None = None
        self.skipped = 0

    def feed(self, data: bytes) -> list[bytes]:
        out = []
        for byte in data:
            if byte == STX:
                if self._buf:
                    self.skipped += len(self._buf) + 1
                self._buf = bytearray()
            elif self._buf is None:
                self.skipped += 1
            elif byte == ETX:
                out.append(bytes(self._buf))
                self._buf = None
            elif len(self._buf) >= MAX_FRAME:
                self.skipped += len(self._buf) + 1
                self._buf = None
            else:
                self._buf.append(byte)
        return out


def parse_record(user: int, text: bytes) -> Record:
    """One 20-digit record, range-checked."""
    if len(text) != RECORD_LEN or not text.isdigit():
        raise FrameError("record is not 20 digits")
    s = text.decode("ascii")
    try:
        taken_at = datetime.strptime(s[:10], "%y%m%d%H%M")
    except ValueError:
        raise FrameError("record has an impossible date or time") from None
    flag, systolic, diastolic, pulse = int(s[10]), int(s[11:14]), int(s[14:17]), int(s[17:20])
    if not (50 <= systolic <= 300 and 30 <= diastolic <= 200 and 30 <= pulse <= 250):
        raise FrameError("record value out of range")
    return Record(user, taken_at, flag, systolic, diastolic, pulse)


def parse_memory(payload: bytes) -> tuple[list[Record], int]:
    """The records of an `R00` answer and how many records were skipped as invalid.
    Raises FrameError if the block structure itself is broken."""
    records: list[Record] = []
    bad = 0
    i = 0
    if not payload.startswith(b"M"):
        raise FrameError("not a memory dump")
    while i < len(payload):
        if payload[i:i + 1] != b"M" or len(payload) < i + 4 or not payload[i + 1:i + 4].isdigit():
            raise FrameError("bad memory block header")
        user, count = payload[i + 1] - 0x30, int(payload[i + 2:i + 4])
        i += 4
        if count == 0:
            i += 1  # the dummy byte of an empty block
            continue
        end = i + count * RECORD_LEN
        if end > len(payload):
            raise FrameError("memory block shorter than its record count")
        for j in range(i, end, RECORD_LEN):
            try:
                records.append(parse_record(user, payload[j:j + RECORD_LEN]))
            except FrameError:
                bad += 1
        i = end
    return records, bad


def encode_memory(blocks: dict[int, list[Record]]) -> bytes:
    """The payload of an `R00` answer (used by the simulated monitor and the tests)."""
    out = bytearray()
    for user, records in sorted(blocks.items()):
        out += f"M{user}{len(records):02d}".encode("ascii")
        if not records:
            out += b"1"
        for record in records:
            out += record.encode()
    return bytes(out)
