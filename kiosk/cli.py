"""`lobby-kiosk`: run the kiosk app, check its configuration, render screenshots, run the demo."""

from __future__ import annotations

import argparse
import getpass
import sys

from kiosk import config, logs

SCREENS = ("home", "voice", "repair", "parcel", "health", "progress", "emergency", "notices", "technician")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lobby-kiosk",
        description="Lobby touchscreen kiosk. Without a subcommand, runs the app from the configuration.",
    )
    p.add_argument("--config", help=f"configuration file (default ${config.ENV_VAR} or {config.DEFAULT_PATH})")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the kiosk app (the default)")
    cc = sub.add_parser("check-config", help="validate a configuration file; exit 0 if usable, 1 if not")
    cc.add_argument("path", nargs="?", help="file to check (default: --config, $LOBBY_KIOSK_CONFIG or the default path)")
    hp = sub.add_parser("hash-pin", help="print a salted hash of a technician PIN for [technician] pin_hash")
    hp.add_argument("--pin", help="the PIN (default: asked for without echo)")
    sc = sub.add_parser("screenshot", help="render one screen headless to a PNG")
    sc.add_argument("--screen", required=True, choices=SCREENS)
    sc.add_argument("--out", required=True, help="PNG file to write")
    sc.add_argument("--large-text", action="store_true", help="render in 大字 mode")
    sc.add_argument("--lang", choices=("zh", "en"), default="zh")
    sc.add_argument("--size", default="1080x1920", help="WIDTHxHEIGHT in pixels (default 1080x1920)")
    dm = sub.add_parser("demo", help="start a whole simulated building and the kiosk")
    dm.add_argument("--out", default="demo-out", help="where the offscreen tour writes screenshots and summary.json")
    dm.add_argument("--headless", action="store_true", help="run the scripted tour offscreen even with a display")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `lobby-kiosk`."""
    args = _parser().parse_args(argv)
    logs.setup(args.verbose)
    command = args.command or "run"
    if command == "check-config":
        path = config.resolve_path(args.path or args.config)
        try:
            config.load(path)
        except config.ConfigError as err:
            print(f"lobby-kiosk: {err}", file=sys.stderr)
            return 1
        print(f"{path}: OK")
        return 0
    if command == "hash-pin":
        from kiosk.pin import hash_pin

        pin = args.pin if args.pin is not None else getpass.getpass("PIN: ")
        try:
            print(hash_pin(pin))
        except ValueError as err:
            print(f"lobby-kiosk: {err}", file=sys.stderr)
            return 2
        return 0
    if command == "screenshot":
        from kiosk.screenshot import main as screenshot_main

        return screenshot_main(args)
    if command == "demo":
        from kiosk.demo import main as demo_main

        return demo_main(args)
    try:
        cfg = config.load(args.config)
    except config.ConfigError as err:
        print(f"lobby-kiosk: {err}", file=sys.stderr)
        return 1
    from kiosk.app import run

    return run(cfg)


if __name__ == "__main__":
    sys.exit(main())
