"""VoiceService end to end: the real sounddevice capture path through an ALSA file-backed
microphone, the real vosk recognizer, end-pointing, the cap, second press, file sources,
and unavailable/recovering states."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import select
import struct
import threading
import time
from pathlib import Path

import pytest

from tests.voice.conftest import ko_model_dir, read_pcm, silence, similar, write_wav
from voice.audio import MicSource, capture_rate, probe_microphone
from voice.endpoint import EndpointConfig
from voice.errors import MicrophoneUnavailable
from voice.service import VoiceService
from voice.session import ListenSession
from voice.settings import VoiceSettings
from voice.transcribe import transcribe_file


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


class Recorder:
    """Collects a session's callbacks."""

    def __init__(self) -> None:
        self.partials: list[str] = []
        self.finals: list[str] = []
        self.errors: list[str] = []
        self.levels: list[float] = []
        self.first_partial = threading.Event()

    def on_partial(self, text: str) -> None:
        self.partials.append(text)
        self.first_partial.set()

    def on_final(self, text: str) -> None:
        self.finals.append(text)

    def on_error(self, reason: str) -> None:
        self.errors.append(reason)

    def on_level(self, value: float) -> None:
        self.levels.append(value)

    def listen(self, service: VoiceService, source: str | None = None):
        return service.listen(self.on_partial, self.on_final, self.on_error, self.on_level, source=source)


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def make_service(ko_model, file_mic, tmp_path):
    services: list[VoiceService] = []

    def _make(loader=None, **overrides) -> VoiceService:
        settings = dataclasses.replace(VoiceSettings(state_dir=str(tmp_path), model_path=ko_model_dir(),
                                                     input_device=file_mic.device), **overrides)
        svc = VoiceService(settings, model_loader=loader or (lambda path: ko_model), mic_retry_s=0.2,
                           stall_s=1.0)
        services.append(svc)
        svc.start()
        wait_for(lambda: svc.status().state != "loading")
        return svc

    yield _make
    for svc in services:
        svc.stop()


def test_capture_returns_the_devices_samples_exactly(file_mic, audio):
    file_mic.play(audio.speech_pcm)
    assert "kioskmic" in probe_microphone(file_mic.device)
    mic = MicSource(file_mic.device)
    mic.open()
    got = b""
    try:
        while len(got) < len(audio.speech_pcm):
            block = mic.read()
            assert block is not None and len(block.data) == 1600
            got += block.data
    finally:
        mic.close()
    assert got[:len(audio.speech_pcm)] == audio.speech_pcm


def test_no_such_microphone_is_reported_with_the_reason(file_mic):
    with pytest.raises(MicrophoneUnavailable, match="no microphone: input device 'no-such-mic' not found"):
        probe_microphone("no-such-mic")
    with pytest.raises(MicrophoneUnavailable, match="no-such-mic"):
        MicSource("no-such-mic").open()


def hum(seconds: float, dbfs: float, hz: float = 50.0) -> bytes:
    """Mains hum: a sine at `dbfs` RMS."""
    amp = 32768 * 10 ** (dbfs / 20) * math.sqrt(2)
    n = int(seconds * 16000)
    return struct.pack(f"<{n}h", *(int(amp * math.sin(2 * math.pi * hz * i / 16000)) for i in range(n)))


def test_microphone_utterance_partials_then_silence_end_point_then_final(make_service, file_mic, audio, caplog):
    caplog.set_level(logging.DEBUG)
    file_mic.play(hum(1.0, -50) + audio.speech_pcm + hum(4.0, -50))
    svc = make_service(silence_s=0.8, energy_gate_dbfs=-40.0)
    assert svc.status().state == "ready" and "kioskmic" in svc.status().microphone
    rec = Recorder()
    session = rec.listen(svc)
    assert session.wait(60)
    assert rec.errors == []
    assert rec.partials and all(hangul(p) for p in rec.partials)
    assert len(rec.finals) == 1 and hangul(rec.finals[0])
    out = session.outcome
    assert out.ended_by == "silence"
    assert out.speech_start_s >= 0.95  # the hum below the gate did not start it
    speech_end = 1.0 + len(audio.speech_pcm) / 32000
    assert out.speech_end_s <= speech_end + 0.05
    assert out.audio_s == pytest.approx(out.speech_end_s + 0.8, abs=0.06)
    assert out.audio_s < speech_end + 4.0  # it did not run to the end
    assert rec.levels and max(rec.levels) > 0.5 and 0.1 < rec.levels[0] < (60 - 40) / 60  # hum: some, below the gate
    assert out.latency_s is not None
    # privacy: what was said appears in no log record
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for text in {rec.finals[0], *rec.partials}:
        assert text not in caplog.text


def test_hard_cap_ends_a_long_utterance(make_service, file_mic, audio):
    file_mic.play(audio.speech_pcm * 5 + silence(2))
    svc = make_service(max_utterance_s=2.0)
    rec = Recorder()
    session = rec.listen(svc)
    assert session.wait(60)
    assert session.outcome.ended_by == "cap"
    assert session.outcome.audio_s == pytest.approx(session.outcome.speech_start_s + 2.0, abs=0.06)
    assert len(rec.finals) == 1 and rec.errors == []


def test_second_press_ends_now_and_cancel_discards(make_service, file_mic, audio):
    file_mic.play(audio.speech_pcm * 6)
    svc = make_service(hands_free=True)  # waits for speech as long as it takes: cancel cannot come too late
    rec = Recorder()
    session = rec.listen(svc)
    assert rec.first_partial.wait(60)
    session.stop()
    assert session.wait(30)
    assert session.outcome.ended_by == "stop"
    assert len(rec.finals) == 1 and hangul(rec.finals[0])

    file_mic.play(hum(20.0, -50))
    rec2 = Recorder()
    session2 = rec2.listen(svc)
    wait_for(lambda: len(rec2.levels) >= 5)
    session2.cancel()
    assert session2.wait(30)
    assert rec2.finals == [] and rec2.errors == [] and session2.outcome is None


def test_a_file_source_plays_in_real_time_through_the_same_path(make_service, audio, tmp_path):
    wav = write_wav(tmp_path / "request.wav", silence(0.3) + audio.speech_pcm + silence(2.0))
    svc = make_service()
    rec = Recorder()
    t0 = time.monotonic()
    session = rec.listen(svc, source=wav.as_uri())
    assert session.wait(60)
    wall = time.monotonic() - t0
    assert session.outcome.ended_by == "silence"
    assert rec.partials and len(rec.finals) == 1 and hangul(rec.finals[0])
    assert wall >= 0.9 * session.outcome.audio_s  # paced like a microphone, never faster


def test_fast_file_source_and_ten_minutes_of_silence(make_service, tmp_path):
    wav = write_wav(tmp_path / "silence.wav", silence(600))
    svc = make_service(hands_free=True)
    rec = Recorder()
    session = rec.listen(svc, source=wav.as_uri() + "?pace=fast")
    assert session.wait(120)
    assert session.outcome.ended_by == "end_of_input" and session.outcome.audio_s == pytest.approx(600)
    assert rec.finals == [""] and rec.partials == []
    assert session.processing_s == 0.0
    # press-to-talk gives up after no_speech_s of audio
    svc2 = make_service(no_speech_s=2.0)
    session = Recorder().listen(svc2, source=wav.as_uri() + "?pace=fast")
    assert session.wait(60)
    assert session.outcome.ended_by == "no_speech" and session.outcome.audio_s == pytest.approx(2.0)


def test_bad_sources_and_failing_callbacks(make_service, tmp_path):
    svc = make_service()
    rec = Recorder()
    assert rec.listen(svc, source="rtsp://camera/1").wait(10)
    assert rec.errors and "unknown audio source" in rec.errors[0]
    rec = Recorder()
    assert rec.listen(svc, source=(tmp_path / "missing.wav").as_uri()).wait(10)
    assert rec.errors and "no such file" in rec.errors[0]
    assert svc.status().state == "ready"  # a bad file says nothing about the microphone

    finals: list[str] = []

    def broken(_value):
        raise RuntimeError("a bug in the kiosk's level meter")

    wav = write_wav(tmp_path / "short.wav", silence(1.0))
    session = svc.listen(None, finals.append, None, broken, source=wav.as_uri() + "?pace=fast")
    assert session.wait(10) and finals == [""]


def test_no_model_and_a_damaged_model_make_voice_unavailable_with_the_reason(make_service, tmp_path):
    from voice.recognizer import load_model

    svc = make_service(loader=load_model, model_path=str(tmp_path / "none"))
    st = svc.status()
    assert st.state == "unavailable" and "no model at" in st.reason and st.model is None
    rec = Recorder()
    assert rec.listen(svc).wait(10)
    assert rec.errors and "no model at" in rec.errors[0] and rec.finals == []

    damaged = tmp_path / "damaged"
    (damaged / "am").mkdir(parents=True)
    (damaged / "conf").mkdir()
    (damaged / "am" / "final.mdl").write_bytes(os.urandom(4096))
    (damaged / "conf" / "model.conf").write_text("--min-active=200\n")
    svc = make_service(loader=load_model, model_path=str(damaged))
    assert svc.status().state == "unavailable" and "damaged" in svc.status().reason


def test_no_microphone_is_unavailable_but_file_sources_still_work(make_service, tmp_path):
    seen = []
    svc = make_service(input_device="no-such-mic")
    svc.add_status_listener(seen.append)
    st = svc.status()
    assert st.state == "unavailable" and st.reason.startswith("no microphone") and st.model == "model"
    rec = Recorder()
    assert rec.listen(svc).wait(10)
    assert rec.errors and "no-such-mic" in rec.errors[0]
    wav = write_wav(tmp_path / "quiet.wav", silence(1.0))
    rec = Recorder()
    assert rec.listen(svc, source=wav.as_uri() + "?pace=fast").wait(10)
    assert rec.finals == [""] and rec.errors == []


class StallingMic:
    """A FIFO behind an ALSA `type file` device: speaks `pcm`, then stops delivering (a wedged mic).

    Every open of the device (PortAudio's scans and the stream) is served; `unplug()` ends it.
    """

    def __init__(self, fifo: Path, pcm: bytes) -> None:
        self.fifo, self.pcm = fifo, pcm
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.done.is_set():
            fd = os.open(self.fifo, os.O_WRONLY)
            try:
                if self.done.is_set():
                    return
                os.write(fd, self.pcm)
                poll = select.poll()
                poll.register(fd, select.POLLERR)
                while not self.done.is_set() and not poll.poll(50):
                    pass  # hold the device open without sound until the reader leaves
            except BrokenPipeError:
                pass
            finally:
                os.close(fd)

    def unplug(self) -> None:
        self.done.set()
        try:  # release a serve loop waiting for a reader
            os.close(os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass
        self.thread.join(5)


def test_microphone_lost_mid_utterance_fails_clearly_and_voice_recovers(make_service, file_mic, audio, tmp_path):
    fifo = tmp_path / "wedged.raw"
    os.mkfifo(fifo)
    wedged_conf = tmp_path / "wedged.conf"
    wedged_conf.write_text(file_mic.conf.read_text().replace(str(file_mic.raw), str(fifo)))
    stalling = StallingMic(fifo, audio.speech_pcm[:24000])  # 0.75 s of speech, then nothing
    stalling.thread.start()
    os.environ["ALSA_CONFIG_PATH"] = str(wedged_conf)
    try:
        svc = make_service()
        assert svc.status().state == "ready"
        states = []
        svc.add_status_listener(states.append)
        rec = Recorder()
        session = rec.listen(svc)
        assert session.wait(30)
        assert rec.finals == [] and len(rec.errors) == 1
        assert "stopped delivering audio" in rec.errors[0]
        wait_for(lambda: svc.status().state == "unavailable")
        assert "stopped delivering audio" in svc.status().reason or "stuck" in svc.status().reason
    finally:
        os.environ["ALSA_CONFIG_PATH"] = str(file_mic.conf)
        stalling.unplug()
    # plugged back in: the watch thread finds it, voice is ready again and the microphone delivers
    file_mic.play(hum(10.0, -50))
    wait_for(lambda: svc.status().state == "ready")
    assert states[-1].state == "ready"
    rec = Recorder()
    session = rec.listen(svc)
    assert session.wait(60)
    assert rec.errors == [] and rec.finals == [""] and session.outcome.ended_by == "no_speech"
    assert len(rec.levels) == 160  # no_speech_s (8 s) of 50 ms blocks


def test_start_returns_at_once_and_the_model_loads_in_the_background(ko_model, file_mic, tmp_path):
    release = threading.Event()

    def slow_loader(path: str):
        release.wait(30)  # a big model on a slow SD card
        return ko_model

    svc = VoiceService(VoiceSettings(state_dir=str(tmp_path), input_device=file_mic.device),
                       model_loader=slow_loader)
    assert svc.status().state == "loading" and svc.status().reason == "not started"
    seen, threads = [], set()
    svc.add_status_listener(lambda st: (seen.append(st), threads.add(threading.current_thread().name)))
    svc.start()
    try:
        assert svc.status().state == "loading"  # start() did not wait for the model
        rec = Recorder()
        assert rec.listen(svc).wait(10)
        assert rec.errors == ["the recognition model is still loading"]
        release.set()
        wait_for(lambda: svc.status().state == "ready")
        assert [s.state for s in seen] == ["loading", "ready"]
        assert seen[-1].model == "model" and "kioskmic" in seen[-1].microphone
        assert threads <= {"voice-model", "voice-mic"}  # listeners run on voice threads, never the caller's
    finally:
        release.set()
        svc.stop()


def test_a_microphone_unplugged_while_idle_is_noticed_and_its_return_too(ko_model, file_mic, tmp_path):
    elsewhere = tmp_path / "other.conf"  # the sound system without our microphone (another one is there)
    elsewhere.write_text(file_mic.conf.read_text().replace(file_mic.device, "othermic"))
    svc = VoiceService(VoiceSettings(state_dir=str(tmp_path), input_device=file_mic.device),
                       model_loader=lambda _path: ko_model, mic_retry_s=0.1, idle_probe_s=0.2)
    svc.start()
    try:
        wait_for(lambda: svc.status().state == "ready")
        os.environ["ALSA_CONFIG_PATH"] = str(elsewhere)
        wait_for(lambda: svc.status().state == "unavailable")
        assert "no microphone: input device 'kioskmic' not found" in svc.status().reason
        assert svc.status().microphone is None and svc.status().model == "model"
        os.environ["ALSA_CONFIG_PATH"] = str(file_mic.conf)
        wait_for(lambda: svc.status().state == "ready")
    finally:
        os.environ["ALSA_CONFIG_PATH"] = str(file_mic.conf)
        svc.stop()


def test_listen_again_from_a_final_callback(make_service, tmp_path):
    svc = make_service()
    wav = write_wav(tmp_path / "quiet.wav", silence(1.0))
    second = Recorder()
    sessions = []

    def again(_text: str) -> None:
        sessions.append(second.listen(svc, source=wav.as_uri() + "?pace=fast"))

    first = svc.listen(None, again, None, source=wav.as_uri() + "?pace=fast")
    assert first.wait(10)
    wait_for(lambda: len(sessions) == 1)
    assert sessions[0].wait(10) and second.finals == [""] and second.errors == []


def test_a_microphone_that_cannot_capture_16k_is_read_at_its_default_rate(ko_model, file_mic, audio):
    """PortAudio refuses the first rate asked for (as hardware without 16 kHz refuses 16 kHz), so the
    capture opens at the device's default rate (44.1 kHz here); vosk resamples; the end-pointer
    keeps audio time."""
    pcm44 = read_pcm(audio.converted(44100, pad=(1.0, 3.0)), 44100)
    file_mic.play(pcm44)
    assert capture_rate(file_mic.device) == 16000
    assert capture_rate(file_mic.device, (3_000_000, None)) == 44100
    mic = MicSource(file_mic.device, rates=(3_000_000, None))
    rec = Recorder()
    session = ListenSession(mic, ko_model, EndpointConfig(silence_s=0.8), on_partial=rec.on_partial,
                            on_final=rec.on_final, on_error=rec.on_error, on_level=rec.on_level).start()
    assert session.wait(60)
    assert mic.rate == 44100 and rec.errors == []
    assert rec.partials and len(rec.finals) == 1 and hangul(rec.finals[0])
    out = session.outcome
    speech_s = len(audio.speech_pcm) / 32000
    assert out.ended_by == "silence"
    assert out.speech_start_s == pytest.approx(1.0, abs=0.15)
    assert out.speech_end_s <= 1.0 + speech_s + 0.05
    assert out.audio_s == pytest.approx(out.speech_end_s + 0.8, abs=0.06)
    assert len(rec.levels) == round(out.audio_s / 0.05)  # 50 ms blocks at 44.1 kHz too
    reference = transcribe_file(ko_model, str(audio.converted(16000, pad=(1.0, 3.0))))
    assert similar(rec.finals[0], reference.text) >= 0.6, (rec.finals[0], reference.text)
