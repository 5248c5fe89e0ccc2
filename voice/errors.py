"""Errors of the voice subsystem.

Library errors (vosk, sounddevice/PortAudio, wave, urllib) are wrapped into
these where they enter, so callers catch only `VoiceError` and its kinds.
Every message is one line a technician can act on and never holds a
transcript.
"""

from __future__ import annotations


class VoiceError(Exception):
    """Base of every error the voice subsystem raises."""

    @property
    def reason(self) -> str:
        """The one-line reason, as shown in the kiosk's notice and the status."""
        return str(self)


class ModelUnavailable(VoiceError):
    """No usable recognition model: missing, not a vosk model, or damaged."""


class RecognizerError(VoiceError):
    """The recognizer failed while decoding."""


class AudioFormatError(VoiceError):
    """An audio file cannot be read or converted to 16 kHz mono 16-bit."""


class SourceError(VoiceError):
    """An audio source URI is malformed or names an unknown kind of source."""


class MicrophoneUnavailable(VoiceError):
    """No microphone (no sound card, unknown device, or it cannot open at 16 kHz)."""


class MicrophoneLost(MicrophoneUnavailable):
    """The microphone failed or stopped delivering audio while in use."""


class FetchError(VoiceError):
    """A model could not be downloaded, checked or unpacked."""
