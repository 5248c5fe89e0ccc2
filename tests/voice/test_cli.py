"""`lobby-voice` commands as a technician runs them (subprocesses of this venv)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.voice.conftest import ko_model_dir, silence, write_wav


def one_reason(stderr: str) -> str:
    reasons = [line for line in stderr.splitlines() if re.match(r"lobby-voice( [a-z-]+)?: ", line)]
    assert len(reasons) == 1, stderr
    assert "Traceback" not in stderr
    return reasons[0]


@pytest.mark.parametrize("command", ["fetch-model", "transcribe", "listen", "say", "intent"])
def test_every_command_has_help(run_cli, command):
    r = run_cli("voice", command, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: lobby-voice {command}")


def test_wrong_arguments_give_one_line(run_cli):
    r = run_cli("voice", "transcribe")
    assert r.returncode == 2 and "FILE.wav" in one_reason(r.stderr)
    r = run_cli("voice", "fetch-model", "--size", "many")
    assert r.returncode == 2 and "--size" in one_reason(r.stderr)


def test_transcribe_json_reports_text_and_timings(run_cli, audio, tmp_path):
    wav = tmp_path / "req-22k.wav"  # espeak-ng's own 22.05 kHz output, padded: converted on the way in
    subprocess.run(["sox", str(audio.speech_raw), str(wav), "pad", "0.3", "1.2"], check=True)
    r = run_cli("voice", "transcribe", "--model", ko_model_dir(), str(wav), "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in out["text"])
    assert out["audio_s"] == pytest.approx(0.3 + len(audio.speech_pcm) / 32000 + 1.2, abs=0.06)
    assert out["processing_s"] > 0 and out["rtf"] == pytest.approx(out["processing_s"] / out["audio_s"], rel=0.01)
    assert out["latency_s"] is not None and out["utterances"][0]["ended_by"] == "silence"
    first = out["utterances"][0]
    assert first["pause_finalize_s"] is not None and first["backlog_s"] == 0.0  # read as fast as decoded
    assert 0 < out["decoded_s"] < out["audio_s"] - 1.0  # the 1.2 s of trailing silence is not decoded
    assert out["text"] not in r.stderr  # the log says how long, never what


def test_transcribe_failures_are_one_line(run_cli, tmp_path):
    wav = write_wav(tmp_path / "q.wav", silence(0.5))
    r = run_cli("voice", "transcribe", "--model", str(tmp_path / "none"), str(wav))
    assert r.returncode == 1 and "no model at" in one_reason(r.stderr)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....")
    r = run_cli("voice", "transcribe", "--model", ko_model_dir(), str(bad), timeout=120)
    assert r.returncode == 1 and "not a PCM WAV" in one_reason(r.stderr)


def test_listen_from_the_file_backed_microphone(run_cli, file_mic, audio):
    file_mic.play(silence(0.3) + audio.speech_pcm + silence(3.0))
    r = run_cli("voice", "listen", "--model", ko_model_dir(), "--device", file_mic.device, "--json",
                env={"ALSA_CONFIG_PATH": str(file_mic.conf)}, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["ended_by"] == "silence" and any("\uac00" <= ch <= "\ud7a3" for ch in out["text"])
    assert "… " in r.stderr  # partial results shown as they come


def test_listen_without_a_microphone_says_why(run_cli, file_mic):
    r = run_cli("voice", "listen", "--model", ko_model_dir(), "--device", "no-such-mic",
                env={"ALSA_CONFIG_PATH": str(file_mic.conf)}, timeout=120)
    assert r.returncode == 1
    assert "voice unavailable: no microphone" in one_reason(r.stderr)


def test_listen_on_a_machine_without_a_sound_card(run_cli):
    # this build machine's own ALSA configuration: no card at all
    r = run_cli("voice", "listen", "--model", ko_model_dir(),
                env={"ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf"}, timeout=60)
    assert r.returncode == 1
    assert "voice unavailable: no microphone: default input device not found" in one_reason(r.stderr)
