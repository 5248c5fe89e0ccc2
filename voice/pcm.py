"""Mono signed 16-bit PCM (16 kHz is the models' rate): levels, and conversion from other WAV layouts.

Pure Python on `array`, because numpy is not a dependency. Everything here
works on bytes in memory: audio is never written to disk.
"""

from __future__ import annotations

import math
import sys
from array import array

RATE = 16000
SAMPLE_BYTES = 2
BLOCK_S = 0.05  # 50 ms: fine enough for end-pointing, coarse enough to be cheap
BLOCK_FRAMES = 800  # one block at 16 kHz
BLOCK_BYTES = BLOCK_FRAMES * SAMPLE_BYTES
FULL_SCALE = 32768.0
FLOOR_DBFS = -96.0


def block_frames(rate: int) -> int:
    """Frames in one 50 ms block at `rate` Hz."""
    return max(1, round(rate * BLOCK_S))


def samples(data: bytes) -> array:
    """The int16 samples of little-endian PCM bytes (a trailing odd byte is dropped)."""
    a = array("h")
    a.frombytes(data[: len(data) - len(data) % 2])
    if sys.byteorder == "big":
        a.byteswap()
    return a


def to_bytes(a: array) -> bytes:
    """Little-endian bytes of int16 samples."""
    if sys.byteorder == "big":
        a = array("h", a)
        a.byteswap()
    return a.tobytes()


def dbfs(data: bytes, gate_dbfs: float | None = None) -> float:
    """RMS level of a block in dB relative to full scale (-96 for digital silence).

    With `gate_dbfs`, a block whose peak is already below the gate returns its
    peak level without computing the RMS: silence costs almost nothing, so ten
    minutes of it are skipped in about a second.
    """
    a = samples(data)
    if not a:
        return FLOOR_DBFS
    peak = max(max(a), -min(a))
    if peak == 0:
        return FLOOR_DBFS
    if gate_dbfs is not None:
        peak_db = 20 * math.log10(peak / FULL_SCALE)
        if peak_db < gate_dbfs:
            return peak_db
    power = sum(map(int.__mul__, a, a)) / len(a)
    return max(FLOOR_DBFS, 10 * math.log10(power / (FULL_SCALE * FULL_SCALE)))


def level(db: float) -> float:
    """Map a dBFS level to 0.0..1.0 for a level meter (-60 dBFS and below is 0)."""
    return min(1.0, max(0.0, (db + 60.0) / 60.0))


def convert(data: bytes, rate: int, channels: int, width: int, out_rate: int = RATE) -> bytes:
    """Convert interleaved PCM of any rate, channel count and 8/16/32-bit width to mono int16 at `out_rate`.

    Channels are averaged; the rate is changed by linear interpolation (used
    only to raise rates below 16 kHz, where there is nothing to alias; the
    recognizer lowers higher rates itself). Raises ValueError for widths
    other than 1, 2 or 4.
    """
    if width == 2:
        mono = samples(data)
    elif width == 1:  # WAV 8-bit is unsigned
        mono = array("h", ((b - 128) << 8 for b in data))
    elif width == 4:
        wide = array("i")
        wide.frombytes(data[: len(data) - len(data) % 4])
        if sys.byteorder == "big":
            wide.byteswap()
        mono = array("h", (v >> 16 for v in wide))
    else:
        raise ValueError(f"{width * 8}-bit samples are not supported (use 8, 16 or 32-bit PCM)")
    if channels > 1:
        n = len(mono) // channels
        lanes = [mono[c:n * channels:channels] for c in range(channels)]
        mono = array("h", (int(sum(frame) / channels) for frame in zip(*lanes, strict=True)))
    if rate != out_rate:
        mono = resample(mono, rate, out_rate)
    return to_bytes(mono)


def resample(a: array, src: int, dst: int) -> array:
    """Linear-interpolation resampling of int16 samples from `src` Hz to `dst` Hz."""
    if not a or src == dst:
        return array("h", a)
    n_out = int(len(a) * dst / src)
    step = src / dst
    last = len(a) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = a[last]
            continue
        frac = pos - j
        out[i] = int(a[j] + (a[j + 1] - a[j]) * frac)
    return out
