"""One listening session: source -> capture thread -> end-pointer + recognizer -> callbacks.

The same path serves the microphone, a WAV file played in real time (the
kiosk demo) and `lobby-voice transcribe` (continuous mode, one result per
utterance in the file). Two named threads per session: `voice-capture`
reads the source into a bounded queue, `voice-session` decodes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from voice.audio import Block, Source
from voice.endpoint import End, EndpointConfig, Endpointer
from voice.errors import MicrophoneLost, MicrophoneUnavailable, RecognizerError, VoiceError
from voice.pcm import SAMPLE_BYTES, dbfs, level
from voice.recognizer import Model, Recognizer

log = logging.getLogger(__name__)

QUEUE_BLOCKS = 100          # 5 s of audio between capture and decoding
PREROLL_BLOCKS = 6          # 0.3 s before the gate opened is decoded too (soft word onsets)
TRAIL_S = 0.3               # silence after speech that is decoded at once; the rest waits for speech to resume
FINALIZE_AHEAD_S = 0.3      # finalise this long before the end-point silence is complete (it usually will be)
_END = object()


@dataclass(frozen=True)
class Outcome:
    """How an utterance ended. `text` is None when it failed; never logged."""

    text: str | None
    ended_by: str            # an End value, "error" or "cancel"
    error: str | None = None
    audio_s: float = 0.0     # audio consumed by this utterance (audio time)
    speech_start_s: float | None = None
    speech_end_s: float | None = None
    latency_s: float | None = None  # end-point block delivered -> final text ready (wall time)
    backlog_s: float | None = None  # of that: the end-point block waiting in the queue (decoding behind)
    finalize_s: float | None = None  # of that: the recognizer's final result
    peak_backlog_s: float | None = None  # the longest any block of the utterance waited to be decoded
    early_finalize_s: float | None = None  # final result computed in the last pause, before the end-point


Callback = Callable[..., object]


def _call(fn: Callback | None, *args: object) -> None:
    if fn is None:
        return
    try:
        fn(*args)
    except Exception:  # a bug in a caller's callback must not kill the voice thread
        log.exception("voice callback %s failed", getattr(fn, "__name__", fn))


class ListenSession:
    """A running utterance; `stop()` ends it now (second press), `cancel()` discards it.

    Exactly one of on_final(text) / on_error(reason) is called, unless the
    session is cancelled, in which case neither is. In continuous mode
    (`transcribe`) on_final is called once per utterance until the input ends.
    """

    def __init__(self, source: Source, model: Model, config: EndpointConfig, *,
                 on_partial: Callback | None = None, on_final: Callback | None = None,
                 on_error: Callback | None = None, on_level: Callback | None = None,
                 on_source_failed: Callable[[VoiceError], None] | None = None,
                 stall_s: float = 2.0, continuous: bool = False) -> None:
        self.source = source
        self.model = model
        self.config = config
        self._cb = (on_partial, on_final, on_error, on_level)
        self._on_source_failed = on_source_failed
        self.stall_s = stall_s
        self.continuous = continuous
        self.outcomes: list[Outcome] = []
        self.error: VoiceError | None = None
        self.processing_s = 0.0      # wall time inside the recognizer
        self.processing_cpu_s = 0.0  # CPU time of the decoding thread inside the recognizer
        self.audio_s = 0.0
        self.decoded_s = 0.0         # audio given to the recognizer (silence before and after speech is not)
        self._audio_in_utterance = 0.0
        self._queue: queue.Queue = queue.Queue(QUEUE_BLOCKS)
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voice-session", daemon=True)

    # -- public
    @property
    def outcome(self) -> Outcome | None:
        """The last utterance's outcome, once there is one."""
        return self.outcomes[-1] if self.outcomes else None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def on_own_thread(self) -> bool:
        """True when called from this session's decoding thread (i.e. from one of its callbacks)."""
        return threading.current_thread() is self._thread

    def start(self) -> ListenSession:
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the utterance now and deliver what was recognised (the second press)."""
        self._stop.set()

    def cancel(self) -> None:
        """Discard the utterance: no further callbacks."""
        self._cancel.set()
        self.source.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the session has ended; True if it did within `timeout`."""
        return self._done.wait(timeout)

    # -- threads
    def _capture(self) -> None:
        while not (self._cancel.is_set() or self._done.is_set()):
            try:
                item: object = self.source.read()
            except VoiceError as err:
                item = err
            if item is None:
                item = _END
            while not (self._cancel.is_set() or self._done.is_set()):
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not isinstance(item, Block):
                return

    def _fail(self, err: VoiceError, audio_s: float = 0.0) -> None:
        self.error = err
        if isinstance(err, MicrophoneUnavailable) and self._on_source_failed:
            self._on_source_failed(err)
        if self._cancel.is_set():
            return
        self.outcomes.append(Outcome(None, "error", err.reason, audio_s))
        _call(self._cb[2], err.reason)

    def _run(self) -> None:
        rec: Recognizer | None = None
        try:
            self.source.open()
            rec = self.model.acquire(self.source.rate)
            self._decode(rec)
        except VoiceError as err:
            if isinstance(err, RecognizerError):
                rec = None  # a failed recognizer is not reused
            self._fail(err, self._audio_in_utterance)
        finally:
            self.source.close()
            if rec is not None:
                self.model.release(rec)
            self._done.set()

    def _decode(self, rec: Recognizer) -> None:
        on_partial, on_final, _, on_level = self._cb
        threading.Thread(target=self._capture, name="voice-capture", daemon=True).start()
        endp = Endpointer(self.config)
        preroll: deque[bytes] = deque(maxlen=PREROLL_BLOCKS)
        held: list[bytes] = []  # trailing silence not fed (yet): fed if speech resumes, dropped at the end
        last_text = ""
        peak_backlog = 0.0
        early: float | None = None  # cost of the segment finalised in the current pause, if it was
        finalize_at = max(TRAIL_S, self.config.silence_s - FINALIZE_AHEAD_S)
        idle_since = taken = time.monotonic()
        while not self._cancel.is_set():
            why: End | None = None
            block: Block | None = None
            self._audio_in_utterance = endp.audio_s
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                item = None
            if self._stop.is_set():
                why = endp.end(End.STOP)
            elif item is None:
                if time.monotonic() - idle_since > self.stall_s:
                    self.source.close()
                    raise MicrophoneLost(f"{self.source.name} stopped delivering audio")
                continue
            elif item is _END:
                why = endp.end(End.END_OF_INPUT)
            elif isinstance(item, VoiceError):
                raise item
            else:
                block = item
                idle_since = time.monotonic()
                taken = idle_since if not self.source.realtime else block.arrived
                self.audio_s += block.duration_s
                started = endp.speech_start_s is not None
                db = dbfs(block.data, None if started else self.config.gate_dbfs)
                _call(on_level, level(db))
                why = endp.feed(block.duration_s, db)
                if endp.speech_start_s is None:
                    preroll.append(block.data)
                elif not endp.is_loud(db) and endp.quiet_s > TRAIL_S + 1e-9:
                    held.append(block.data)  # the end-pointer is judging this silence: decode it only if speech resumes
                    if why is None and early is None and endp.quiet_s >= finalize_at - 1e-9:
                        t0, c0 = time.perf_counter(), time.thread_time()
                        rec.end_segment()  # most pauses this long are the end: have the result ready
                        early = time.perf_counter() - t0
                        self.processing_s += early
                        self.processing_cpu_s += time.thread_time() - c0
                else:
                    early = None
                    if self.source.realtime:
                        peak_backlog = max(peak_backlog, idle_since - block.arrived)
                    data = b"".join((*(preroll if not started else ()), *held, block.data))
                    preroll.clear()
                    held.clear()
                    self.decoded_s += len(data) / (block.rate * SAMPLE_BYTES)
                    t0, c0 = time.perf_counter(), time.thread_time()
                    text = rec.accept(data)
                    self.processing_s += time.perf_counter() - t0
                    self.processing_cpu_s += time.thread_time() - c0
                    if text and text != last_text and why is None:
                        last_text = text
                        _call(on_partial, text)
            if why is None:
                continue
            # latency counts from the end-point block's arrival (microphone, paced file) or,
            # for a file read as fast as possible, from when it was taken off the queue
            t_end = taken if block is not None else time.monotonic()
            backlog = (idle_since - block.arrived) if block is not None and self.source.realtime else 0.0
            spoke = endp.speech_start_s is not None
            if not spoke and self.continuous and self.outcomes and why is End.END_OF_INPUT:
                return  # trailing silence after the last utterance of a file
            text, finalize = "", None
            if spoke:
                t0, c0 = time.perf_counter(), time.thread_time()
                text = rec.finish()
                finalize = time.perf_counter() - t0
                self.processing_s += finalize
                self.processing_cpu_s += time.thread_time() - c0
            if self._cancel.is_set():
                return
            latency = time.monotonic() - t_end if spoke else None
            self.outcomes.append(Outcome(text, why.value, None, endp.audio_s, endp.speech_start_s,
                                         endp.last_speech_s if spoke else None, latency,
                                         backlog if spoke else None, finalize,
                                         max(peak_backlog, backlog) if spoke else None, early))
            log.info("utterance ended by %s after %.2f s of audio (%d characters)",
                     why.value, endp.audio_s, len(text))
            _call(on_final, text)
            if not self.continuous or why in (End.STOP, End.END_OF_INPUT):
                return
            endp.reset()
            preroll.clear()
            held.clear()
            last_text = ""
            peak_backlog = 0.0
            early = None
