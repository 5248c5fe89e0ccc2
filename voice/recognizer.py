"""The vosk recognizer behind our own types: model loading with clear reasons, streaming decode.

vosk's exceptions and JSON strings stop here; the rest of `voice/` sees
`Model`, `Recognizer`, `ModelUnavailable` and `RecognizerError`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from voice.errors import ModelUnavailable, RecognizerError
from voice.pcm import RATE

log = logging.getLogger(__name__)

# Files every vosk model directory has (old-style models keep final.mdl at the top).
_ACOUSTIC = ("am/final.mdl", "final.mdl")


@dataclass(frozen=True)
class Model:
    """A loaded vosk model and where it came from."""

    path: str
    name: str
    vosk_model: Any


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
    """Streaming recognition of one utterance at a time, 16 kHz mono int16.

    `accept()` returns the text so far (vosk's own mid-utterance results plus
    the current partial); `finish()` returns the final text and resets.
    """

    def __init__(self, model: Model, rate: int = RATE) -> None:
        import vosk

        try:
            self._rec = vosk.KaldiRecognizer(model.vosk_model, rate)
        except Exception as err:  # vosk raises a bare Exception
            raise RecognizerError(f"cannot create a recognizer: {err}") from None
        self._segments: list[str] = []
        self._partial = ""

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

    def finish(self) -> str:
        """End the utterance: return its final text and get ready for the next one."""
        try:
            seg = self._field(self._rec.FinalResult(), "text")
        except RecognizerError:
            raise
        except Exception as err:  # vosk/kaldi errors surface as bare Exceptions
            raise RecognizerError(f"recognizer failed: {err}") from None
        text = " ".join(s for s in (*self._segments, seg) if s)
        self._segments, self._partial = [], ""
        return text

    def reset(self) -> None:
        """Drop the current utterance."""
        self._rec.Reset()
        self._segments, self._partial = [], ""
