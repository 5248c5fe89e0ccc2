"""Transcribe a WAV file through the same streaming path as the microphone, with timings.

WAVs of any rate and channel count are accepted: channels are averaged to
mono and vosk resamples (see `voice.audio.read_wav`); compressed, float and
24-bit files are refused with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from voice.audio import FileSource
from voice.endpoint import EndpointConfig
from voice.recognizer import Model
from voice.session import ListenSession, Outcome


@dataclass
class Transcript:
    """The text of every utterance in a file and how long recognising it took."""

    segments: list[Outcome] = field(default_factory=list)
    partials: int = 0
    audio_s: float = 0.0
    processing_s: float = 0.0   # time spent inside the recognizer
    processing_cpu_s: float = 0.0  # CPU time of it (unaffected by other processes)
    decoded_s: float = 0.0      # audio given to the recognizer (silence around speech is skipped)
    wall_s: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    @property
    def rtf(self) -> float | None:
        """Real-time factor: recognizer time / audio time (below 1 keeps up with speech)."""
        return self.processing_s / self.audio_s if self.audio_s else None

    @property
    def latencies_s(self) -> list[float]:
        """End of speech (end-point) to final result, per utterance."""
        return [s.latency_s for s in self.segments if s.latency_s is not None]

    def as_dict(self) -> dict:
        lat = self.latencies_s
        return {
            "text": self.text,
            "utterances": [{"text": s.text, "ended_by": s.ended_by, "speech_start_s": s.speech_start_s,
                            "speech_end_s": s.speech_end_s, "latency_s": s.latency_s,
                            "backlog_s": s.backlog_s, "finalize_s": s.finalize_s,
                            "pause_finalize_s": s.early_finalize_s}
                           for s in self.segments],
            "audio_s": round(self.audio_s, 3),
            "processing_s": round(self.processing_s, 3),
            "processing_cpu_s": round(self.processing_cpu_s, 3),
            "decoded_s": round(self.decoded_s, 3),
            "wall_s": round(self.wall_s, 3),
            "rtf": round(self.rtf, 4) if self.rtf is not None else None,
            "latency_s": round(max(lat), 4) if lat else None,
            "partials": self.partials,
        }


def transcribe_file(model: Model, path: str, *, paced: bool = False,
                    config: EndpointConfig | None = None, timeout: float | None = None) -> Transcript:
    """Recognise every utterance in the WAV file at `path`.

    Raises the session's VoiceError (AudioFormatError for a bad file,
    RecognizerError) instead of returning a partial result.
    """
    config = config or EndpointConfig(no_speech_s=None)
    out = Transcript()

    def count(_text: str) -> None:
        out.partials += 1

    t0 = time.monotonic()
    session = ListenSession(FileSource(path, paced=paced), model, config, on_partial=count,
                            continuous=True).start()
    if not session.wait(timeout):
        session.cancel()
        raise TimeoutError(f"transcription of {path} did not finish in {timeout} s")
    if session.error is not None:
        raise session.error
    out.wall_s = time.monotonic() - t0
    out.segments = list(session.outcomes)
    out.audio_s = session.audio_s
    out.processing_s = session.processing_s
    out.processing_cpu_s = session.processing_cpu_s
    out.decoded_s = session.decoded_s
    return out
