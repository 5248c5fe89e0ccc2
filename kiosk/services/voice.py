"""The kiosk's side of voice/: status, listening sessions, intent parsing, speech.

Starts even without the voice package or a model: `status()` then says why in
`reason`, and `listen()` reports the reason through on_error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.services.pool import Pool, post

log = logging.getLogger(__name__)
VOICE_NICE = 5  # nice levels below the UI thread for the voice worker and the recognizer it starts


@dataclass(frozen=True)
class VoiceState:
    """Same fields as voice.service.VoiceStatus, used while no VoiceService exists."""

    state: str = "unavailable"
    reason: str | None = None
    model: str | None = None
    microphone: str | None = None


def default_factory(settings: Any):
    from voice.service import VoiceService  # noqa: PLC0415 - optional subsystem

    return VoiceService(settings)


class VoiceSession:
    """What listen() returns at once; the real session is created on the voice worker thread
    (starting one may wait for the previous to finish), and stop()/cancel() reach it when it exists."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._real: Any = None
        self._pending: str | None = None

    def attach(self, real: Any) -> None:
        with self._lock:
            self._real, pending = real, self._pending
        if pending:
            getattr(real, pending)()

    def _forward(self, what: str) -> None:
        with self._lock:
            real = self._real
            if real is None and self._pending != "cancel":
                self._pending = what
        if real is not None:
            getattr(real, what)()

    def stop(self) -> None:
        """End the utterance now (second press)."""
        self._forward("stop")

    def cancel(self) -> None:
        """Discard the utterance."""
        self._forward("cancel")


class VoiceAccess:
    """Wraps voice.service.VoiceService; every callback comes back on the UI thread."""

    def __init__(self, settings: Any, factory: Callable[[Any], Any] | None = default_factory) -> None:
        self.settings = settings
        self._factory = factory
        self._service: Any = None
        self._reason = "voice disabled" if factory is None else "not started"
        self._listeners: list[Callable[[Any], None]] = []
        # One worker: starting a session may wait for the last one. The recognizer's threads are
        # started from it and inherit its lower priority: on two cores, recognition must not take
        # the CPU from the UI thread (it still gets all of it while nobody touches the screen).
        self._pool = Pool("kiosk-voice", workers=1, nice=VOICE_NICE)
        self._tts = Pool("kiosk-tts", workers=1)  # espeak-ng is found and spawned off the UI thread
        self._started = threading.Event()
        self._life = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        """Create the VoiceService on the voice worker (returns at once); it loads its model in
        the background. Sessions asked for meanwhile start once it exists."""
        if self._factory is None:
            self._started.set()
            return
        self._pool.run(self._load_vocabulary)
        self._pool.run(self._create)

    def _create(self) -> None:
        try:
            service = self._factory(self.settings)
            service.add_status_listener(self._status_changed)
            with self._life:
                if self._stopped:
                    return
                self._service = service
            service.start()
        except ImportError as err:
            self._service = None
            self._reason = f"voice module not available ({err.name})"
            log.warning("voice unavailable: %s", self._reason)
        except Exception as err:  # any failure of an optional subsystem must not stop the kiosk
            self._service = None
            self._reason = f"voice failed to start: {type(err).__name__}: {err}"
            log.warning("voice unavailable: %s", self._reason)
        finally:
            self._started.set()
            self._status_changed(self.status())  # posts to the UI thread

    def wait_started(self, timeout: float | None = None) -> bool:
        """Block until the voice service was created or failed (worker threads only)."""
        return self._started.wait(timeout)

    def _load_vocabulary(self) -> None:
        """Load the intent vocabulary off the UI thread ([voice] vocabulary_file or the bundled one),
        so the first parse() on the UI thread does not stall it."""
        try:
            from voice import intent  # noqa: PLC0415 - optional subsystem
        except ImportError:
            return
        try:
            intent.use_vocabulary(getattr(self.settings, "vocabulary_file", None))
        except Exception as err:  # a bad community vocabulary: fall back to the bundled one
            log.warning("intent vocabulary not loaded (%s: %s); using the bundled one", type(err).__name__, err)
            intent.use_vocabulary(None)

    def stop(self) -> None:
        with self._life:
            self._stopped = True
        self._pool.shutdown()
        self._tts.shutdown()
        self._started.set()  # a creation cancelled by the shutdown must not keep anyone waiting
        if self._service is not None:
            try:
                self._service.stop()
            except Exception as err:  # shutting down: report, never raise
                log.warning("voice stop failed: %s", err)

    def add_listener(self, fn: Callable[[Any], None]) -> None:
        """fn(status) on the UI thread whenever the voice status changes."""
        self._listeners.append(fn)

    def _status_changed(self, status: Any) -> None:
        for fn in list(self._listeners):
            post(fn, status)

    def status(self) -> Any:
        """VoiceStatus: state "loading" | "ready" | "unavailable", reason, model, microphone."""
        if self._service is None:
            if self._factory is not None and not self._started.is_set():
                return VoiceState(state="loading", reason="starting")
            return VoiceState(reason=self._reason)
        try:
            return self._service.status()
        except Exception as err:  # a broken subsystem is reported, not raised into the UI
            return VoiceState(reason=f"status failed: {err}")

    def ready(self) -> bool:
        return self.status().state == "ready"

    def listen(self, on_partial: Callable[[str], None], on_final: Callable[[str], None],
               on_error: Callable[[str], None], on_level: Callable[[float], None] | None = None,
               source: str | None = None) -> VoiceSession:
        """Start one utterance; returns at once. Callbacks come on the UI thread."""
        session = VoiceSession()

        def start() -> None:
            if self._service is None:  # created (or not) by start(), queued on this worker before us
                post(on_error, self._reason)
                return
            try:
                real = self._service.listen(
                    lambda text: post(on_partial, text),
                    lambda text: post(on_final, text),
                    lambda reason: post(on_error, reason),
                    on_level=(lambda level: post(on_level, level)) if on_level else None,
                    source=source,
                )
            except Exception as err:  # e.g. no microphone: shown to the resident as words
                post(on_error, str(err) or type(err).__name__)
                return
            session.attach(real)

        self._pool.run(start)
        return session

    def parse(self, text: str):
        """Intent for a transcript (fast; may run on the UI thread)."""
        from voice.intent import parse  # noqa: PLC0415 - optional subsystem

        return parse(text)

    def say(self, text: str) -> bool:
        """Speak text without blocking: finding and starting espeak-ng happens on the kiosk-tts
        worker, never the UI thread. False when speech is switched off."""
        if not getattr(self.settings, "tts", True):
            return False
        try:
            self._tts.run(self._speak, text)
        except RuntimeError:  # stopping: nothing more to say
            return False
        return True

    def _speak(self, text: str) -> bool:
        try:
            from voice import tts  # noqa: PLC0415 - optional subsystem

            return bool(tts.say(text, getattr(self.settings, "tts_voice", "cmn")))
        except Exception as err:  # speech is a nicety; the text is on screen anyway
            log.info("tts unavailable: %s", type(err).__name__)
            return False
