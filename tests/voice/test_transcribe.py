"""`transcribe_file`: the streaming path on files, with good and bad input."""

import struct
import time

import pytest

from tests.voice.conftest import clipping_noise, silence, write_wav
from voice.audio import read_wav
from voice.endpoint import EndpointConfig
from voice.errors import AudioFormatError
from voice.pcm import dbfs
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


def test_a_44k_stereo_wav_is_converted_to_what_sox_makes_of_it(audio):
    ours = read_wav(str(audio.speech_stereo_44k))  # 44.1 kHz stereo -> 16 kHz mono, in memory
    ref = audio.speech_pcm                         # sox's conversion of the same speech
    assert len(ours) == pytest.approx(len(ref), abs=64)
    step = 1600  # 50 ms
    ours_db = [dbfs(ours[i:i + step]) for i in range(0, min(len(ours), len(ref)) - step, step)]
    ref_db = [dbfs(ref[i:i + step]) for i in range(0, min(len(ours), len(ref)) - step, step)]
    loud = [(a, b) for a, b in zip(ours_db, ref_db, strict=True) if b > -35]
    assert len(loud) > 10
    assert all(abs(a - b) < 1.5 for a, b in loud), loud


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
