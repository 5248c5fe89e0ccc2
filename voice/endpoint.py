"""End-pointing: when an utterance starts and ends, measured in audio time.

Fed one block at a time with its level; decides nothing about words. Speech
starts when the level stays at or above the energy gate for `min_speech_s`
(so a click or steady hum below the gate never starts an utterance). It ends
after `silence_s` below the gate, at the hard cap `max_s` after it started,
after `no_speech_s` with no speech at all (press-to-talk only), or when asked
(second press, end of input). Audio time, not wall time, so a file played as
fast as possible end-points exactly like the same audio from a microphone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class End(StrEnum):
    """Why an utterance ended."""

    SILENCE = "silence"
    CAP = "cap"
    NO_SPEECH = "no_speech"
    STOP = "stop"
    END_OF_INPUT = "end_of_input"


@dataclass(frozen=True)
class EndpointConfig:
    """Timings in seconds and the gate in dBFS."""

    silence_s: float = 0.8
    max_s: float = 15.0
    gate_dbfs: float = -40.0
    no_speech_s: float | None = 8.0  # None: wait for speech forever (hands-free)
    min_speech_s: float = 0.1


class Endpointer:
    """State of one utterance: waiting for speech, in speech, or ended."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Wait for the next utterance."""
        self.audio_s = 0.0          # audio seen since reset
        self.speech_start_s: float | None = None
        self.last_speech_s: float | None = None  # end of the last block at or above the gate
        self._loud_run_s = 0.0
        self._quiet_run_s = 0.0
        self.ended: End | None = None

    @property
    def in_speech(self) -> bool:
        return self.speech_start_s is not None and self.ended is None

    @property
    def quiet_s(self) -> float:
        """Audio below the gate since the last block at or above it, once speech has started."""
        return self._quiet_run_s if self.speech_start_s is not None else 0.0

    def is_loud(self, db: float) -> bool:
        return db >= self.config.gate_dbfs

    def feed(self, duration_s: float, db: float) -> End | None:
        """Account for one block of `duration_s` at level `db`; return why the utterance ended, if it did."""
        if self.ended is not None:
            return self.ended
        c = self.config
        start = self.audio_s
        self.audio_s += duration_s
        loud = self.is_loud(db)
        if loud:
            self.last_speech_s = self.audio_s
        if self.speech_start_s is None:
            self._loud_run_s = self._loud_run_s + duration_s if loud else 0.0
            if self._loud_run_s >= c.min_speech_s - 1e-9:
                self.speech_start_s = start + duration_s - self._loud_run_s
                self._quiet_run_s = 0.0
            elif c.no_speech_s is not None and self.audio_s >= c.no_speech_s - 1e-9:
                self.ended = End.NO_SPEECH
            return self.ended
        self._quiet_run_s = 0.0 if loud else self._quiet_run_s + duration_s
        if self._quiet_run_s >= c.silence_s - 1e-9:
            self.ended = End.SILENCE
        elif self.audio_s - self.speech_start_s >= c.max_s - 1e-9:
            self.ended = End.CAP
        return self.ended

    def end(self, why: End) -> End:
        """End the utterance now (second press, end of input) unless it already ended."""
        if self.ended is None:
            self.ended = why
        return self.ended
