"""Spoken read-back with the real espeak-ng, and silence (False) when it cannot speak."""

import shutil
import wave

from voice.pcm import dbfs
from voice.tts import Speaker


def test_cannot_speak_without_espeak_or_without_text():
    assert Speaker(executable="no-such-espeak-ng").say("您的报修已提交") is False
    assert Speaker(executable="no-such-espeak-ng").available() is False
    assert Speaker().say("   ") is False


def test_mandarin_speech_is_produced_without_blocking(tmp_path):
    assert shutil.which("espeak-ng"), "espeak-ng is installed by scripts/bootstrap.sh"
    out = tmp_path / "readback.wav"
    speaker = Speaker("cmn")
    assert speaker.say("您是说厨房的灯坏了吗？", wav_path=str(out)) is True
    assert speaker.wait(30) == 0
    with wave.open(str(out)) as w:
        seconds = w.getnframes() / w.getframerate()
        data = w.readframes(w.getnframes())
    assert 1.0 < seconds < 10
    assert dbfs(data) > -40


def test_say_command(run_cli, tmp_path):
    out = tmp_path / "s.wav"
    r = run_cli("voice", "say", "你好", "--wav", str(out))
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000
    r = run_cli("voice", "say", "你好", env={"PATH": str(tmp_path)})
    assert r.returncode == 1
    assert "lobby-voice: cannot speak: espeak-ng is not installed" in r.stderr
