"""Spoken read-back with espeak-ng (Mandarin voice `cmn` by default), never blocking the caller.

`say(text)` starts espeak-ng and returns True at once; it returns False when
it cannot speak (espeak-ng not installed, nothing to say), and the kiosk
then shows the text only. A new `say` interrupts the previous one. The text
is passed as an argument, never logged.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading

log = logging.getLogger(__name__)

MAX_CHARS = 300


class Speaker:
    """One espeak-ng voice; one utterance at a time."""

    def __init__(self, voice: str = "cmn", executable: str = "espeak-ng", speed_wpm: int = 140) -> None:
        self.voice = voice
        self.executable = executable
        self.speed_wpm = speed_wpm
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def available(self) -> bool:
        return shutil.which(self.executable) is not None

    def say(self, text: str, wav_path: str | None = None) -> bool:
        """Speak `text` (or write it to `wav_path`); True if espeak-ng was started."""
        text = " ".join(str(text).split())[:MAX_CHARS]
        exe = shutil.which(self.executable)
        if not text or exe is None:
            return False
        cmd = [exe, "-v", self.voice, "-s", str(self.speed_wpm)]
        if wav_path:
            cmd += ["-w", wav_path]
        cmd += ["--", text]
        with self._lock:
            self.cancel_locked()
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
            except OSError as err:
                log.warning("espeak-ng could not start: %s", err.strerror)
                return False
            self._proc = proc
        threading.Thread(target=self._reap, args=(proc,), name="voice-tts", daemon=True).start()
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the current utterance; its exit code, or None if nothing is speaking."""
        proc = self._proc
        return proc.wait(timeout) if proc is not None else None

    def cancel(self) -> None:
        """Stop speaking now (e.g. the resident pressed the microphone button)."""
        with self._lock:
            self.cancel_locked()

    def speaking(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def cancel_locked(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    @staticmethod
    def _reap(proc: subprocess.Popen) -> None:
        _, err = proc.communicate()
        if proc.returncode not in (0, -15) or b"error" in err.lower():
            log.warning("espeak-ng could not play (exit %s); is there an audio output?", proc.returncode)


_default: Speaker | None = None
_default_lock = threading.Lock()


def _speaker(voice: str | None = None) -> Speaker:
    global _default
    with _default_lock:
        if _default is None or (voice is not None and _default.voice != voice):
            if _default is not None:
                _default.cancel()
            _default = Speaker(voice or "cmn")
        return _default


def say(text: str, voice: str = "cmn") -> bool:
    """Speak `text` with espeak-ng without blocking; False when it cannot speak."""
    return _speaker(voice).say(text)


def stop() -> None:
    """Stop what `say` is speaking, if anything (before listening, so the kiosk does not hear itself)."""
    _speaker().cancel()


def speaking() -> bool:
    """Whether `say` is still speaking."""
    return _speaker().speaking()
