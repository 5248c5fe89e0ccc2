"""VoiceService: what the kiosk uses of voice (see docs/architecture.md, "voice").

`start()` loads the model on the `voice-model` thread, warms a recognizer
up (so the first resident does not pay the decoding graph's expansion) and
probes the microphone, so the touch UI never waits. While the microphone is missing
(never there, or lost mid-utterance) the `voice-mic` thread probes for it
every `mic_retry_s` and reports voice ready again when it is back; while it
is there and idle, it checks every `idle_probe_s` that it still is. A file
source (`file:///x.wav`) needs only the model, not the microphone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from voice.audio import MicSource, capture_rate, open_source, probe_microphone
from voice.endpoint import EndpointConfig
from voice.errors import MicrophoneUnavailable, ModelUnavailable, RecognizerError, VoiceError
from voice.pcm import RATE
from voice.recognizer import Model, load_model
from voice.session import Callback, ListenSession
from voice.settings import VoiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceStatus:
    """Whether voice can be offered, and if not, why (one line for the kiosk's notice)."""

    state: str                 # "loading" | "ready" | "unavailable"
    reason: str | None = None
    model: str | None = None   # name of the loaded model, None until loaded
    microphone: str | None = None  # name of the input device, None when there is none


class _Unavailable:
    """A source that fails to open: turns 'voice is not ready' into the session's on_error."""

    name = "unavailable"
    realtime = False
    rate = RATE

    def __init__(self, err: VoiceError) -> None:
        self.err = err

    def open(self) -> None:
        raise self.err

    def read(self) -> None:
        return None

    def close(self) -> None:
        pass


class VoiceService:
    """Offline voice intake: model loading, microphone supervision, listening sessions."""

    def __init__(self, settings: VoiceSettings, *, model_loader: Callable[[str], Model] = load_model,
                 mic_retry_s: float = 2.0, idle_probe_s: float = 30.0, stall_s: float = 2.0) -> None:
        self.settings = settings
        self._load = model_loader
        self.mic_retry_s = mic_retry_s
        self.idle_probe_s = idle_probe_s
        self.stall_s = stall_s
        self._lock = threading.Lock()
        self._listeners: list[Callable[[VoiceStatus], object]] = []
        self._model: Model | None = None
        self._model_error: str | None = None
        self._mic: str | None = None
        self._mic_error: str | None = "microphone not probed yet"
        self._status = VoiceStatus("loading", "not started")
        self._session: ListenSession | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Load the model and probe the microphone in the background; returns at once."""
        self._stopping.clear()
        with self._lock:  # listeners hear of it from the voice-model thread, never the caller's
            self._status = VoiceStatus("loading", "loading the recognition model")
        for name, target in (("voice-model", self._load_model), ("voice-mic", self._watch_mic)):
            t = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self) -> None:
        """Cancel any session and stop the background threads."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.cancel()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()

    # ------------------------------------------------------------- status
    def status(self) -> VoiceStatus:
        with self._lock:
            return self._status

    def add_status_listener(self, fn: Callable[[VoiceStatus], object]) -> None:
        """Call fn(VoiceStatus) on a voice thread whenever the status changes."""
        with self._lock:
            self._listeners.append(fn)

    def _publish(self, status: VoiceStatus, force: bool = False) -> None:
        with self._lock:
            if status == self._status and not force:
                return
            self._status = status
            listeners = list(self._listeners)
        log.info("voice %s%s", status.state, f": {status.reason}" if status.reason else "")
        for fn in listeners:
            try:
                fn(status)
            except Exception:  # a caller's listener bug must not stop model loading or the mic watch
                log.exception("voice status listener failed")

    def _recompute(self) -> None:
        with self._lock:
            model, model_err, mic, mic_err = self._model, self._model_error, self._mic, self._mic_error
        name = model.name if model else None
        if model is None:
            status = VoiceStatus("unavailable" if model_err else "loading",
                                 model_err or "loading the recognition model", None, mic)
        elif mic is None:
            status = VoiceStatus("unavailable", mic_err, name, None)
        else:
            status = VoiceStatus("ready", None, name, mic)
        self._publish(status)

    # ------------------------------------------------------------- threads
    def _load_model(self) -> None:
        self._publish(self.status(), force=True)  # "loading"
        path = self.settings.resolved_model_path()
        try:
            model = self._load(path)
        except ModelUnavailable as err:
            with self._lock:
                self._model_error = err.reason
            model = None
        found = self._probe_mic()
        if model is not None:
            self._warm_up(model, found)
            with self._lock:
                self._model = model
        self._recompute()

    def _warm_up(self, model: Model, mic_found: bool) -> None:
        """Warm a recognizer at 16 kHz and, if the microphone captures at another rate, at that rate."""
        rates = [RATE]
        if mic_found:
            try:
                rates.append(capture_rate(self.settings.input_device))
            except MicrophoneUnavailable:
                pass
        for rate in dict.fromkeys(rates):
            try:
                took = model.warm_up(rate)
            except RecognizerError as err:
                log.warning("recognizer warm-up at %d Hz failed: %s", rate, err.reason)
                continue
            log.info("recognizer warmed up at %d Hz in %.2f s", rate, took)

    def _probe_mic(self) -> bool:
        with self._lock:
            busy = self._session is not None and not self._session.done
        if busy:
            return self._mic is not None
        try:
            name = probe_microphone(self.settings.input_device)
        except MicrophoneUnavailable as err:
            with self._lock:
                self._mic, self._mic_error = None, err.reason
            return False
        with self._lock:
            self._mic, self._mic_error = name, None
        return True

    def _watch_mic(self) -> None:
        # One reconnect policy: while the microphone is missing, probe every mic_retry_s; while it
        # is there and idle, check every idle_probe_s that it still is (unplugged between requests).
        last_check = time.monotonic()
        while not self._stopping.is_set():
            self._wake.wait(self.mic_retry_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            with self._lock:
                missing, loaded = self._mic is None, self._model is not None or self._model_error
            if not loaded:
                continue
            if missing:
                if self._probe_mic():
                    log.info("microphone is back")
                    self._recompute()
            elif self.idle_probe_s and time.monotonic() - last_check >= self.idle_probe_s:
                last_check = time.monotonic()
                if not self._probe_mic():
                    log.warning("microphone gone while idle")
                    self._recompute()

    def _mic_failed(self, err: VoiceError) -> None:
        with self._lock:
            self._mic, self._mic_error = None, err.reason
        self._recompute()
        self._wake.set()

    # ------------------------------------------------------------- listening
    def listen(self, on_partial: Callback, on_final: Callback, on_error: Callback,
               on_level: Callback | None = None, source: str | None = None) -> ListenSession:
        """Start an utterance from the microphone (source None) or a `file://` / `mic://` URI.

        Callbacks run on a voice thread. A session already running is cancelled.
        When voice cannot listen, on_error(reason) is called (on a voice thread).
        """
        s = self.settings
        config = EndpointConfig(silence_s=s.silence_s, max_s=s.max_utterance_s, gate_dbfs=s.energy_gate_dbfs,
                                no_speech_s=None if s.hands_free else s.no_speech_s)
        with self._lock:
            previous, model, model_err = self._session, self._model, self._model_error
        if previous is not None and not previous.done:
            previous.cancel()
            if not previous.on_own_thread:  # listen() called from the previous session's callback
                previous.wait(5)
        try:
            src = open_source(source, s.input_device)
            if model is None:
                raise ModelUnavailable(model_err or "the recognition model is still loading")
        except VoiceError as err:
            src = _Unavailable(err)
        # only the configured microphone's failures change voice's status
        is_mic = isinstance(src, MicSource) and (src.device or None) == (s.input_device or None)
        session = ListenSession(src, model, config, on_partial=on_partial, on_final=on_final,  # type: ignore[arg-type]
                                on_error=on_error, on_level=on_level,
                                on_source_failed=self._mic_failed if is_mic else None,
                                stall_s=self.stall_s)
        with self._lock:
            self._session = session
        return session.start()
