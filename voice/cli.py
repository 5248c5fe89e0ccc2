"""`lobby-voice`: fetch a model, transcribe a file, listen to the microphone, speak, parse intents.

Every command takes `--config FILE` (default: $LOBBY_KIOSK_CONFIG, else
/etc/lobby-kiosk/kiosk.toml when it exists, else built-in defaults).
Transcripts go to stdout for the person at the terminal, never to the log.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import sys
import threading

from voice import logs
from voice.errors import VoiceError
from voice.settings import ConfigError, VoiceSettings, load

DEFAULT_CONFIG = "/etc/lobby-kiosk/kiosk.toml"
ENV_VAR = "LOBBY_KIOSK_CONFIG"
PROG = "lobby-voice"


def _intent_cli():
    """The intent parser's command module, if it is installed (it is built separately)."""
    if importlib.util.find_spec("voice.intent_cli") is None:
        return None
    return importlib.import_module("voice.intent_cli")


def _parser() -> argparse.ArgumentParser:
    from voice.models import DEFAULT_MODEL, KNOWN_MODELS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help=f"kiosk TOML file (default ${ENV_VAR} or {DEFAULT_CONFIG})")
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")

    p = argparse.ArgumentParser(prog=PROG, description="Offline voice intake of lobby-kiosk: vosk recognition, "
                                "espeak-ng read-back and the intent parser.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    f = sub.add_parser("fetch-model", parents=[common], help="download, check and unpack a vosk model",
                       description="Download a known vosk model into <state_dir>/models/, check its size and "
                                   "SHA-256, and unpack it atomically. Known models: "
                                   + "; ".join(f"{m.name} ({m.about})" for m in KNOWN_MODELS.values()))
    f.add_argument("name", nargs="?", default=DEFAULT_MODEL, metavar="NAME",
                   help=f"model name (default {DEFAULT_MODEL})")
    f.add_argument("--state-dir", metavar="DIR", help="override [site] state_dir")
    f.add_argument("--url", help="download from this URL instead (a mirror)")
    f.add_argument("--from-file", metavar="ZIP", help="install a zip copied over by hand (no download)")
    f.add_argument("--sha256", metavar="HEX", help="expected SHA-256 of the zip (overrides the recorded one)")
    f.add_argument("--size", type=int, metavar="BYTES", help="expected size of the zip in bytes")
    f.add_argument("--force", action="store_true", help="replace an installed model of that name")
    f.add_argument("--timeout", type=float, default=30.0, metavar="S", help="network timeout (default 30)")

    t = sub.add_parser("transcribe", parents=[common], help="recognise a WAV file through the streaming path",
                       description="Run a WAV file through the same streaming path as the microphone and print "
                                   "the text (one line per utterance); --json adds audio seconds, processing "
                                   "seconds, real-time factor and end-of-speech-to-final latency.")
    t.add_argument("file", metavar="FILE.wav", help="a PCM WAV file, any rate and channel count (averaged to mono; "
                   "vosk resamples)")
    t.add_argument("--model", metavar="DIR", help="vosk model directory (default: the configured one)")
    t.add_argument("--json", action="store_true", help="print one JSON object with the text and timings")
    t.add_argument("--paced", action="store_true", help="feed the audio in real time, as a microphone would")
    t.add_argument("--silence", type=float, metavar="S", help="end-point silence (default: voice.silence_s)")

    li = sub.add_parser("listen", parents=[common], help="recognise one utterance from the microphone",
                        description="Listen for one utterance (like the kiosk's microphone button): partial "
                                    "results on stderr as they come, the final text on stdout.")
    li.add_argument("--model", metavar="DIR", help="vosk model directory (default: the configured one)")
    li.add_argument("--device", metavar="DEV", help="input device name or index (default: voice.input_device)")
    li.add_argument("--source", metavar="URI", help="mic://[DEVICE] or file:///x.wav[?pace=fast]")
    li.add_argument("--json", action="store_true", help="print the outcome as one JSON object")

    s = sub.add_parser("say", parents=[common], help="speak a text with espeak-ng",
                       description="Speak TEXT with espeak-ng (the kiosk's read-back voice). Exits 1 when "
                                   "it cannot speak (espeak-ng not installed).")
    s.add_argument("text", metavar="TEXT")
    s.add_argument("--voice", help="espeak-ng voice (default: voice.tts_voice)")
    s.add_argument("--wav", metavar="FILE", help="write the speech to this WAV file instead of playing it")

    intent_cli = _intent_cli()
    if intent_cli is not None:
        intent_cli.add_parser(sub)
    else:
        sub.add_parser("intent", help="parse a request's text (the intent parser is not installed)",
                       description="Parse a request's text. The intent parser (voice/intent_cli.py) is "
                                   "not installed in this build.")
    return p


def _settings(args: argparse.Namespace, p: argparse.ArgumentParser) -> VoiceSettings:
    path = args.config or os.environ.get(ENV_VAR) or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    try:
        return load(path) if path else VoiceSettings()
    except ConfigError as err:
        p.error(f"config {path}: {err}")
    raise AssertionError("unreachable")


def _fail(reason: str) -> int:
    print(f"{PROG}: {reason}", file=sys.stderr)
    return 1


def _fetch(args: argparse.Namespace, settings: VoiceSettings) -> int:
    from voice.models import fetch_model

    state_dir = args.state_dir or settings.state_dir
    models_dir = os.path.join(state_dir, "models")
    result = fetch_model(args.name, models_dir, url=args.url, from_file=args.from_file, sha256=args.sha256,
                         size=args.size, force=args.force, timeout=args.timeout)
    if result.already:
        print(f"{args.name} is already installed at {result.path} (use --force to replace it)")
        return 0
    note = "matches the recorded figure" if result.matched_record else "matches the figure given with --sha256"
    print(f"size {result.size} bytes")
    print(f"sha256 {result.sha256} ({note})")
    print(f"installed {result.path}")
    return 0


def _transcribe(args: argparse.Namespace, settings: VoiceSettings) -> int:
    from voice.audio import read_wav
    from voice.endpoint import EndpointConfig
    from voice.recognizer import load_model
    from voice.transcribe import transcribe_file

    read_wav(args.file)  # a bad file is refused before the model's seconds of loading
    model = load_model(args.model or settings.resolved_model_path())
    config = EndpointConfig(silence_s=args.silence or settings.silence_s, max_s=settings.max_utterance_s,
                            gate_dbfs=settings.energy_gate_dbfs, no_speech_s=None)
    result = transcribe_file(model, args.file, paced=args.paced, config=config)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for seg in result.segments:
            print(seg.text)
    return 0


def _listen(args: argparse.Namespace, settings: VoiceSettings) -> int:
    from voice.audio import probe_microphone
    from voice.errors import MicrophoneUnavailable
    from voice.recognizer import load_model
    from voice.service import VoiceService

    if args.model:
        settings = dataclasses.replace(settings, model_path=args.model)
    if args.device:
        settings = dataclasses.replace(settings, input_device=args.device)
    if not args.source:
        try:  # fail in a moment, before the model's seconds of loading
            probe_microphone(settings.input_device)
        except MicrophoneUnavailable as err:
            return _fail(f"voice unavailable: {err.reason}")
    model = load_model(settings.resolved_model_path())
    service = VoiceService(settings, model_loader=lambda _path: model)
    ready = threading.Event()
    service.add_status_listener(lambda st: ready.set() if st.state != "loading" else None)
    service.start()
    ready.wait(30)
    if service.status().state != "ready" and not args.source:
        service.stop()
        return _fail(f"voice unavailable: {service.status().reason}")
    print("listening... (Ctrl-C ends the utterance)", file=sys.stderr)

    def partial(text: str) -> None:
        print(f"… {text}", file=sys.stderr, flush=True)

    session = service.listen(partial, lambda _t: None, lambda _r: None, source=args.source)
    try:
        while not session.wait(0.2):
            pass
    except KeyboardInterrupt:
        session.stop()
        session.wait(30)
    service.stop()
    out = session.outcome
    if out is None or out.text is None:
        return _fail(out.error if out else "no result")
    if args.json:
        print(json.dumps({"text": out.text, "ended_by": out.ended_by, "audio_s": round(out.audio_s, 3),
                          "latency_s": out.latency_s}, ensure_ascii=False))
    else:
        print(out.text)
    return 0


def _say(args: argparse.Namespace, settings: VoiceSettings) -> int:
    from voice.tts import Speaker

    speaker = Speaker(args.voice or settings.tts_voice)
    if not speaker.available():
        return _fail("cannot speak: espeak-ng is not installed (the kiosk shows the text only)")
    if not speaker.say(args.text, wav_path=args.wav):
        return _fail("cannot speak: nothing to say")
    code = speaker.wait(60)
    if code:
        return _fail(f"espeak-ng failed (exit {code})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `lobby-voice`."""
    p = _parser()
    args = p.parse_args(argv)
    logs.setup(getattr(args, "verbose", False))
    if args.command == "intent":
        intent_cli = _intent_cli()
        if intent_cli is None:
            return _fail("the intent parser is not installed in this build")
        return int(intent_cli.run(args))
    settings = _settings(args, p)
    handlers = {"fetch-model": _fetch, "transcribe": _transcribe, "listen": _listen, "say": _say}
    try:
        return handlers[args.command](args, settings)
    except VoiceError as err:
        return _fail(err.reason)
    except KeyboardInterrupt:
        return _fail("interrupted")


if __name__ == "__main__":
    sys.exit(main())
