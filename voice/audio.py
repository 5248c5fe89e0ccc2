"""Audio sources chosen by URI, each delivering 50 ms blocks of mono int16 at the source's rate.

- `mic://` — the default input device; `mic://<device>` — a device by name
  substring or index (as `sounddevice` understands it, e.g. `mic://USB`,
  `mic://plughw:1,0`, `mic://2`). Captured with `sounddevice` in blocking mode
  on the session's capture thread, at 16 kHz when the device can, otherwise
  at its default rate.
- `file:///path/x.wav` — a WAV file played through the same path, paced in
  real time like a microphone; `file:///path/x.wav?pace=fast` delivers it as
  fast as it is consumed. Channels are averaged to mono; the rate is kept
  (rates below 16 kHz are raised to 16 kHz).

The recognizer resamples rates above 16 kHz itself (`voice.recognizer`).

Audio stays in memory: nothing here writes a file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import wave
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from voice.errors import AudioFormatError, MicrophoneLost, MicrophoneUnavailable, SourceError
from voice.pcm import RATE, SAMPLE_BYTES, block_frames, convert

log = logging.getLogger(__name__)

MAX_FILE_S = 3600.0  # longer files are refused rather than held in memory


@dataclass(frozen=True)
class Block:
    """One block of mono int16 audio at `rate` Hz and when the source delivered it (time.monotonic())."""

    data: bytes
    arrived: float
    rate: int = RATE

    @property
    def duration_s(self) -> float:
        return len(self.data) / (self.rate * SAMPLE_BYTES)


class Source(Protocol):
    """What the capture thread reads from."""

    name: str
    realtime: bool  # blocks arrive at the pace of speech (latency counts from their arrival)
    rate: int       # sample rate of the blocks, known once opened

    def open(self) -> None: ...
    def read(self) -> Block | None: ...  # None: end of input
    def close(self) -> None: ...  # may be called from another thread to abort a read


def open_source(uri: str | None, default_device: str | None = None) -> Source:
    """The source for `uri` (None = the configured microphone). Not opened yet."""
    if uri is None:
        return MicSource(default_device)
    if uri.startswith("mic://"):
        name = unquote(uri[len("mic://"):]) or default_device
        return MicSource(name)
    if uri.startswith("file://"):
        parts = urlsplit(uri)
        path = unquote(parts.netloc + parts.path)
        pace = parse_qs(parts.query).get("pace", ["real"])[0]
        if pace not in ("real", "fast"):
            raise SourceError(f"unknown pace {pace!r} in source URI (use pace=real or pace=fast)")
        if not path:
            raise SourceError("file:// source without a path")
        return FileSource(path, paced=pace == "real")
    raise SourceError(f"unknown audio source {uri!r} (use mic://[DEVICE] or file:///PATH.wav)")


# ---------------------------------------------------------------- files

def read_wav(path: str) -> tuple[bytes, int]:
    """The whole WAV file at `path` as mono int16 bytes, and their rate.

    Channels are averaged and 8/32-bit samples made 16-bit; the rate is kept
    (the recognizer resamples), except that rates below 16 kHz are raised to
    16 kHz by interpolation (a model need not accept upsampling).
    Raises AudioFormatError with the reason: missing, not a WAV, compressed or
    floating-point samples, an unsupported width, or longer than an hour.
    """
    try:
        with wave.open(path, "rb") as w:
            rate, channels, width, frames = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
            if channels < 1 or rate < 4000 or rate > 192000:
                raise AudioFormatError(f"{path}: implausible WAV header ({channels} channels at {rate} Hz)")
            if frames / rate > MAX_FILE_S:
                raise AudioFormatError(f"{path}: {frames / rate:.0f} s is longer than {MAX_FILE_S:.0f} s")
            data = w.readframes(frames)
    except FileNotFoundError:
        raise AudioFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioFormatError(f"{path}: is a directory") from None
    except PermissionError:
        raise AudioFormatError(f"{path}: permission denied") from None
    except (wave.Error, EOFError) as err:
        raise AudioFormatError(f"{path}: not a PCM WAV file ({err})") from None
    out_rate = max(rate, RATE)
    if channels == 1 and width == 2 and out_rate == rate:
        return data, rate
    try:
        out = convert(data, rate, channels, width, out_rate)
    except ValueError as err:
        raise AudioFormatError(f"{path}: {err}") from None
    log.info("converted audio from %d Hz, %d channel(s), %d-bit to %d Hz mono 16-bit",
             rate, channels, width * 8, out_rate)
    return out, out_rate


class FileSource:
    """A WAV file delivered block by block, in real time (paced) or as fast as it is read."""

    def __init__(self, path: str, paced: bool = True) -> None:
        self.path = path
        self.paced = paced
        self.realtime = paced
        self.name = f"file {os.path.basename(path)}"
        self.rate = RATE
        self._data = b""
        self._pos = 0
        self._t0 = 0.0
        self._closed = threading.Event()

    def open(self) -> None:
        self._data, self.rate = read_wav(self.path)
        self._pos = 0
        self._t0 = time.monotonic()

    def read(self) -> Block | None:
        if self._closed.is_set() or self._pos >= len(self._data):
            return None
        chunk = self._data[self._pos:self._pos + block_frames(self.rate) * SAMPLE_BYTES]
        self._pos += len(chunk)
        if not self.paced:
            return Block(chunk, time.monotonic(), self.rate)
        due = self._t0 + self._pos / (self.rate * SAMPLE_BYTES)
        if self._closed.wait(max(0.0, due - time.monotonic())):
            return None
        return Block(chunk, due, self.rate)

    def close(self) -> None:
        self._closed.set()


# ---------------------------------------------------------------- microphone

class _PortAudio:
    """PortAudio's process-wide state: one lock, and a device rescan when no stream is open.

    PortAudio lists devices once at initialisation; a microphone plugged in
    later is only seen after a re-initialisation, which would close open
    streams, so it happens only while none is open.
    """

    lock = threading.Lock()
    open_streams = 0

    @classmethod
    def module(cls):
        try:
            import sounddevice
        except OSError as err:  # libportaudio2 missing
            raise MicrophoneUnavailable(f"PortAudio is not installed ({err})") from None
        return sounddevice

    @classmethod
    def rescan(cls) -> None:
        sd = cls.module()
        if cls.open_streams == 0:
            sd._terminate()
            sd._initialize()


def _device_arg(device: str | None) -> str | int | None:
    if device is None or device == "":
        return None
    return int(device) if device.isdigit() else device


def probe_microphone(device: str | None) -> str:
    """The name of the input device `device` (None = default), rescanning devices first.

    Raises MicrophoneUnavailable with the reason when there is none.
    """
    with _PortAudio.lock:
        sd = _PortAudio.module()
        if _PortAudio.open_streams:
            # Only a capture stuck in a read can be open while nobody listens: a wedged device.
            raise MicrophoneUnavailable("no microphone: the last capture is still stuck in the device")
        try:
            _PortAudio.rescan()
            info = sd.query_devices(_device_arg(device), "input")
        except (ValueError, sd.PortAudioError) as err:
            what = f"input device {device!r}" if device else "default input device"
            raise MicrophoneUnavailable(f"no microphone: {what} not found ({err})") from None
    return str(info["name"])


def capture_rate(device: str | None, rates: tuple[int | None, ...] = (RATE, None)) -> int:
    """The rate `MicSource(device, rates)` will capture at, checked without starting a stream.

    Raises MicrophoneUnavailable when the device is missing or accepts none of the rates.
    """
    with _PortAudio.lock:
        sd = _PortAudio.module()
        try:
            info = sd.query_devices(_device_arg(device), "input")
        except (ValueError, sd.PortAudioError) as err:
            raise MicrophoneUnavailable(f"no microphone: {err}") from None
        for rate in _candidate_rates(rates, info):
            try:
                sd.check_input_settings(_device_arg(device), channels=1, dtype="int16", samplerate=rate)
            except (ValueError, sd.PortAudioError):
                continue
            return rate
    raise MicrophoneUnavailable(f"no microphone: {info['name']} accepts none of the capture rates")


def _candidate_rates(rates: tuple[int | None, ...], info) -> list[int]:
    """`rates` with None replaced by the device's default rate, duplicates and rates below 16 kHz
    (speech would lose what the model listens to) left out."""
    out: list[int] = []
    for want in rates:
        rate = int(want or info["default_samplerate"])
        if rate >= RATE and rate not in out:
            out.append(rate)
    return out


class MicSource:
    """The microphone, read in blocking mode as mono int16: at 16 kHz when the device can,
    otherwise at its default rate (the recognizer resamples).

    `rates` is the order in which capture rates are tried; None stands for the
    device's default rate.
    """

    def __init__(self, device: str | None = None, rates: tuple[int | None, ...] = (RATE, None)) -> None:
        self.device = device
        self.rates = rates
        self.realtime = True
        self.rate = RATE
        self.name = f"microphone {device or 'default'}"
        self._frames = block_frames(RATE)
        self._stream = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._reading = False

    def open(self) -> None:
        """Open and start the stream; rescan the devices only if the known list does not work
        (a rescan probes every device, which can take a noticeable moment after a button press)."""
        with _PortAudio.lock:
            sd = _PortAudio.module()
            try:
                info, stream = self._start(sd)
            except (ValueError, sd.PortAudioError):
                try:
                    _PortAudio.rescan()
                    info, stream = self._start(sd)
                except (ValueError, sd.PortAudioError) as err:
                    what = f"input device {self.device!r}" if self.device else "default input device"
                    raise MicrophoneUnavailable(f"no microphone: {what} cannot capture mono 16-bit audio "
                                                f"at 16 kHz or at its default rate ({err})") from None
            _PortAudio.open_streams += 1
        self.name = f"microphone {info['name']}"
        self.rate = int(stream.samplerate)
        self._frames = block_frames(self.rate)
        self._stream = stream
        if self.rate != RATE:
            log.info("%s captures at %d Hz; the recognizer resamples", self.name, self.rate)

    def _start(self, sd):
        """Open and start a stream at the first rate of `rates` the device accepts."""
        info = sd.query_devices(_device_arg(self.device), "input")
        tried = _candidate_rates(self.rates, info)
        error: Exception | None = None
        for rate in tried:
            try:
                stream = sd.RawInputStream(samplerate=rate, channels=1, dtype="int16",
                                           blocksize=block_frames(rate), device=_device_arg(self.device))
            except (ValueError, sd.PortAudioError) as err:
                error = err
                continue
            try:
                stream.start()
            except sd.PortAudioError:
                stream.close(ignore_errors=True)
                raise
            return info, stream
        raise error or ValueError(f"no usable capture rate (tried {tried or 'none'}; default "
                                  f"{info['default_samplerate']:.0f} Hz)")

    def read(self) -> Block | None:
        sd = _PortAudio.module()
        with self._lock:
            stream = self._stream
            if stream is None or self._closed.is_set():
                return None
            self._reading = True
        try:
            data, overflowed = stream.read(self._frames)
        except (sd.PortAudioError, OSError) as err:
            if self._closed.is_set():
                return None
            raise MicrophoneLost(f"microphone failed during capture ({err})") from None
        finally:
            with self._lock:
                self._reading = False
                abandoned = self._closed.is_set()
            if abandoned:
                self._release()
        if abandoned:
            return None
        if overflowed:
            log.warning("capture overflow: audio was lost because processing fell behind")
        return Block(bytes(data), time.monotonic(), self.rate)

    def close(self) -> None:
        """Stop capturing. From another thread during a read, the reader closes the stream when
        its read returns, so the stream is never freed under a read in progress."""
        with self._lock:
            self._closed.set()
            if self._reading:
                return
        self._release()

    def _release(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort(ignore_errors=True)
            stream.close(ignore_errors=True)
        finally:
            with _PortAudio.lock:
                _PortAudio.open_streams -= 1
