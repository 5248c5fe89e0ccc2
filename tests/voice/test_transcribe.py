"""`transcribe_file`: the streaming path on files, with good and bad input."""

import struct
import time
import wave
from array import array

import pytest

from tests.voice.conftest import clipping_noise, silence, similar, write_wav
from voice.audio import FileSource, read_wav
from voice.endpoint import EndpointConfig
from voice.errors import AudioFormatError
from voice.pcm import dbfs, samples
from voice.session import ListenSession
from voice.transcribe import transcribe_file


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def test_two_utterances_in_a_file_end_point_by_silence(ko_model, audio, tmp_path):
    pcm = silence(0.4) + audio.speech_pcm + silence(1.5) + audio.speech_pcm + silence(1.0)
    wav = write_wav(tmp_path / "two.wav", pcm)
    t = transcribe_file(ko_model, str(wav), config=EndpointConfig(silence_s=0.8, no_speech_s=None))
    assert [s.ended_by for s in t.segments] == ["silence", "silence"]
    assert all(hangul(s.text) for s in t.segments)
    assert t.partials >= 2
    first = t.segments[0]
    speech_s = len(audio.speech_pcm) / 32000
    assert first.speech_start_s == pytest.approx(0.4, abs=0.15)
    assert first.speech_end_s <= 0.4 + speech_s + 0.05
    assert first.audio_s == pytest.approx(first.speech_end_s + 0.8, abs=0.06)
    assert t.audio_s == pytest.approx(len(pcm) / 32000, abs=0.05)
    d = t.as_dict()
    assert d["rtf"] > 0 and d["latency_s"] is not None and d["text"] == t.text


def test_wavs_at_other_rates_and_stereo_are_recognised_like_16k_mono(ko_model, audio):
    """One rule for every source: mono at the source's own rate, resampled by the recognizer
    (rates below 16 kHz are raised to 16 kHz first). The end-pointer keeps audio time."""
    reference = transcribe_file(ko_model, str(audio.converted(16000)))
    assert hangul(reference.text)
    for rate, channels in [(44100, 2), (48000, 1), (8000, 1)]:
        path = audio.converted(rate, channels)
        pcm, got_rate = read_wav(str(path))
        assert got_rate == max(rate, 16000)
        with wave.open(str(path)) as w:
            assert len(pcm) == 2 * round(w.getnframes() * got_rate / rate)  # mono, nothing lost
        t = transcribe_file(ko_model, str(path))
        assert len(t.segments) == 1 and t.segments[0].ended_by == "silence"
        assert t.segments[0].speech_start_s == pytest.approx(reference.segments[0].speech_start_s, abs=0.051)
        assert t.segments[0].audio_s == pytest.approx(reference.segments[0].audio_s, abs=0.051)
        assert t.audio_s == pytest.approx(reference.audio_s, abs=0.01)
        if rate > 16000:  # the same speech through vosk's resampler gives (about) the same words
            assert similar(t.text, reference.text) >= 0.6, (rate, channels, t.text, reference.text)
        else:  # 8 kHz has lost the upper half of the band: words may differ, speech is still heard
            assert hangul(t.text)


def test_stereo_is_averaged_to_mono_at_its_own_rate(tmp_path):
    frames = array("h")
    for i in range(4410):  # 0.1 s at 44.1 kHz: left a ramp, right its negative plus 100
        frames.extend((i, -i + 100))
    wav = write_wav(tmp_path / "stereo.wav", frames.tobytes(), rate=44100, channels=2)
    pcm, rate = read_wav(str(wav))
    assert rate == 44100 and samples(pcm).tolist() == [50] * 4410


def test_empty_audio_gives_an_empty_transcript(ko_model, tmp_path):
    t = transcribe_file(ko_model, str(write_wav(tmp_path / "empty.wav", b"")))
    assert t.text == "" and t.audio_s == 0
    assert [s.ended_by for s in t.segments] == ["end_of_input"]


def test_ten_minutes_of_silence_is_skipped_by_the_gate_without_decoding(ko_model, tmp_path):
    wav = write_wav(tmp_path / "silence.wav", silence(600))
    t0 = time.monotonic()
    t = transcribe_file(ko_model, str(wav), timeout=120)
    assert t.text == ""
    assert t.audio_s == pytest.approx(600)
    assert t.processing_s == 0.0, "the recognizer was fed silence"
    assert time.monotonic() - t0 < 60  # generous: only guards against decoding it all


def test_clipping_noise_is_cut_by_the_hard_cap(ko_model, tmp_path):
    wav = write_wav(tmp_path / "noise.wav", clipping_noise(3.0))
    t = transcribe_file(ko_model, str(wav), config=EndpointConfig(max_s=2.0, no_speech_s=None))
    assert t.segments[0].ended_by == "cap"
    assert t.segments[0].audio_s == pytest.approx(2.0, abs=0.06)
    assert isinstance(t.text, str)


def test_bad_files_are_refused_with_a_clear_reason(ko_model, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(AudioFormatError, match="not a PCM WAV"):
        transcribe_file(ko_model, str(text))
    with pytest.raises(AudioFormatError, match="no such file"):
        transcribe_file(ko_model, str(tmp_path / "missing.wav"))
    wide = write_wav(tmp_path / "24bit.wav", bytes(3 * 1600), width=3)
    with pytest.raises(AudioFormatError, match="24-bit samples are not supported"):
        transcribe_file(ko_model, str(wide))
    floats = tmp_path / "float.wav"  # IEEE float (format tag 3) header
    body = bytes(400)
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    floats.write_bytes(b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + len(body)) + b"WAVE"
                       + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(body)) + body)
    with pytest.raises(AudioFormatError, match="not a PCM WAV"):
        transcribe_file(ko_model, str(floats))


def test_a_pause_shorter_than_the_end_point_keeps_one_utterance_and_long_silence_is_not_decoded(ko_model, audio):
    """The final result is computed 0.5 s into a pause (0.3 s before a 0.8 s end-point would come);
    when speech resumes, the utterance goes on. Silence after speech beyond 0.3 s is decoded only
    if speech resumes."""
    blocks = [audio.speech_pcm[i:i + 1600] for i in range(0, len(audio.speech_pcm), 1600)]
    loud = [dbfs(b) >= -40 for b in blocks]
    tail_s = 0.05 * (len(loud) - 1 - max(i for i, v in enumerate(loud) if v))  # espeak's own quiet ending
    pause_s = 0.6 - tail_s  # quiet for 0.6 s in all: past the early final result (0.5), short of 0.8
    assert pause_s > 0
    pcm = silence(0.3) + audio.speech_pcm + silence(pause_s) + audio.speech_pcm + silence(1.5)
    path = audio.wav("paused.wav", pcm)
    session = ListenSession(FileSource(str(path), paced=False), ko_model,
                            EndpointConfig(silence_s=0.8, no_speech_s=None), continuous=True).start()
    assert session.wait(120) and session.error is None
    assert [o.ended_by for o in session.outcomes] == ["silence"]
    out = session.outcomes[0]
    speech_s = len(audio.speech_pcm) / 32000
    assert out.speech_end_s == pytest.approx(0.3 + 2 * speech_s + pause_s - tail_s, abs=0.1)  # through the pause
    assert out.early_finalize_s is not None  # ready before the end-point
    once = transcribe_file(ko_model, str(audio.converted(16000))).text
    assert len(out.text.replace(" ", "")) > 1.5 * len(once.replace(" ", ""))  # both halves are in it
    assert similar(out.text, once + once) >= 0.6, (out.text, once)
    # decoded: from 0.3 s before speech to 0.3 s after it; the pause was decoded, the trailing silence not
    assert session.decoded_s == pytest.approx(out.speech_end_s - out.speech_start_s + 0.3 + 0.3, abs=0.11)
