"""`lobby-sync`: queue a request, run the sync agent, show its health, run the reference central.

Every command takes `--config FILE` (default: $LOBBY_KIOSK_CONFIG, else
/etc/lobby-kiosk/kiosk.toml when it exists, else built-in defaults) and the
overrides `--state-dir --central --token-file --kiosk-id --building-id`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

from sync import logs
from sync.errors import InvalidRequest, SyncError
from sync.settings import ID_PATTERN, ConfigError, SyncSettings, load

DEFAULT_CONFIG = "/etc/lobby-kiosk/kiosk.toml"
ENV_VAR = "LOBBY_KIOSK_CONFIG"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("configuration")
    g.add_argument("--config", metavar="FILE", help=f"kiosk TOML file (default ${ENV_VAR} or {DEFAULT_CONFIG})")
    g.add_argument("--state-dir", metavar="DIR", help="override [site] state_dir (holds outbox.sqlite3)")
    g.add_argument("--central", metavar="URL", help="override [central] url")
    g.add_argument("--token-file", metavar="FILE", help="override [central] token_file")
    g.add_argument("--kiosk-id", metavar="K", help="override [site] kiosk_id")
    g.add_argument("--building-id", metavar="B", help="override [site] building_id")
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")

    p = argparse.ArgumentParser(prog="lobby-sync", description="Durable outbox and sync agent of lobby-kiosk.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    e = sub.add_parser("enqueue", parents=[common], help="queue one request read as JSON on stdin",
                       description="Read one request (the contract's body without id/created_at/kiosk_id/"
                                   "building_id) as JSON on stdin; print its uuid and local ticket once durable.")
    e.add_argument("--health-consent", action="store_true", help="the resident agreed to send a health reading")
    e.add_argument("--json", action="store_true", help="print {\"id\", \"local_ticket\"} instead")
    sub.add_parser("run", parents=[common], help="run the sync agent (until SIGTERM)",
                   description="Send queued requests to the central service, pull updates, send heartbeats.")
    s = sub.add_parser("status", parents=[common], help="show the sync agent's health",
                       description="Queue depth, oldest pending age, last success and error, cursor, alarm.")
    s.add_argument("--json", action="store_true", help="print the health as one JSON object")
    c = sub.add_parser("central", parents=[common], help="run the reference central server (demo, tests)",
                       description="A small implementation of the central API on SQLite, with a staff page "
                                   "and fault injection. Prints 'central: listening on URL' once serving.")
    c.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    c.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)")
    c.add_argument("--db", metavar="FILE", required=True, help="the central's SQLite file")
    c.add_argument("--staff-token-file", metavar="FILE", required=True, help="the staff's bearer token")
    c.add_argument("--cert", metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    c.add_argument("--key", metavar="FILE", help="private key of --cert")
    c.add_argument("--fail-rate", type=float, default=0.0, help="share of calls answered 500")
    c.add_argument("--busy-rate", type=float, default=0.0, help="share of calls answered 503 + Retry-After")
    c.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds of injected 503/429")
    c.add_argument("--slow-ms", type=int, default=0, help="delay every call by this much")
    c.add_argument("--drop-after-commit-rate", type=float, default=0.0,
                   help="share of calls processed and committed, then dropped without an answer")
    c.add_argument("--seed", type=int, help="seed of the fault dice")
    return p


def _settings(args: argparse.Namespace, p: argparse.ArgumentParser) -> SyncSettings:
    path = args.config or os.environ.get(ENV_VAR) or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    try:
        settings = load(path) if path else SyncSettings()
    except ConfigError as err:
        p.error(f"config {path}: {err}")
    site: dict[str, str] = {}
    for flag, key in (("kiosk_id", "kiosk_id"), ("building_id", "building_id")):
        value = getattr(args, flag)
        if value is not None:
            if not ID_PATTERN.match(value):
                p.error(f"--{flag.replace('_', '-')} must match [a-z0-9][a-z0-9-]{{0,31}}")
            site[key] = value
    if args.state_dir:
        site["state_dir"] = args.state_dir
    central: dict[str, str] = {}
    if args.central:
        if not args.central.startswith(("http://", "https://")):
            p.error("--central must start with http:// or https://")
        central["url"] = args.central.rstrip("/")
    if args.token_file:
        if not os.path.isfile(args.token_file):
            p.error(f"--token-file: file not found: {args.token_file}")
        central["token_file"] = args.token_file
    return dataclasses.replace(settings, **site, central=dataclasses.replace(settings.central, **central))


def main(argv: list[str] | None = None) -> int:
    """Entry point of `lobby-sync`."""
    p = _parser()
    args = p.parse_args(argv)
    logs.setup(args.verbose)
    settings = _settings(args, p)
    try:
        return {"enqueue": _enqueue, "run": _run, "status": _status, "central": _central}[args.command](
            args, settings, p)
    except SyncError as err:
        print(f"lobby-sync: {err}", file=sys.stderr)
        return 1


def _enqueue(args: argparse.Namespace, settings: SyncSettings, p: argparse.ArgumentParser) -> int:
    from sync.outbox import Outbox

    try:
        body = json.loads(sys.stdin.read())
    except ValueError as err:
        print(f"lobby-sync: stdin is not valid JSON: {err}", file=sys.stderr)
        return 2
    box = Outbox.open(settings)
    try:
        queued = box.enqueue(body, health_consent=args.health_consent)
    except InvalidRequest as err:
        print(f"lobby-sync: invalid request: {err}", file=sys.stderr)
        return 1
    finally:
        box.close()
    print(json.dumps(dataclasses.asdict(queued)) if args.json else f"{queued.id} {queued.local_ticket}")
    return 0


def _run(args: argparse.Namespace, settings: SyncSettings, p: argparse.ArgumentParser) -> int:
    from sync.agent import Agent

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    agent = Agent(settings)
    agent.run(stop)
    return 0


def _status(args: argparse.Namespace, settings: SyncSettings, p: argparse.ArgumentParser) -> int:
    from sync.outbox import Outbox

    box = Outbox.open(settings)
    try:
        h = box.health()
    finally:
        box.close()
    if args.json:
        print(json.dumps(dataclasses.asdict(h), ensure_ascii=False))
        return 0
    now = time.time()

    def when(ts: float | None) -> str:
        return "never" if ts is None else f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(ts))} ({now - ts:.0f} s ago)"

    lines = [
        ("queue depth", f"{h.depth}" + (f" (oldest {h.oldest_pending_s:.0f} s)" if h.oldest_pending_s is not None else "")),
        ("next attempt", "now" if not h.next_attempt_in_s else f"in {h.next_attempt_in_s:.0f} s"),
        ("rejected", str(h.rejected)),
        ("last success", when(h.last_success)),
        ("last error", f"{h.last_error} ({when(h.last_error_at)})" if h.last_error else "none"),
        ("cursor", h.cursor or "none"),
        ("alarm", h.alarm or "none"),
        ("outbox", f"{h.rows}/{settings.central.outbox_max_rows} rows, {h.size_mb}/{settings.central.outbox_max_mb} MB"
                   + (f"  WARNING: {h.capacity_warning}" if h.capacity_warning else "")),
        ("agent last seen", when(h.agent_seen)),
    ]
    for name, value in lines:
        print(f"{name + ':':17} {value}")
    return 0


def _central(args: argparse.Namespace, settings: SyncSettings, p: argparse.ArgumentParser) -> int:
    from sync.central.faults import Faults
    from sync.central.server import CentralServer, read_tokens, serve, tls_context
    from sync.central.store import CentralStore

    token_file = args.token_file or settings.central.token_file
    if not token_file:
        p.error("central needs --token-file (the kiosk tokens it accepts)")
    if bool(args.cert) != bool(args.key):
        p.error("--cert and --key go together")
    try:
        faults = Faults.from_dict({"fail_rate": args.fail_rate, "busy_rate": args.busy_rate,
                                   "retry_after_s": args.retry_after, "slow_ms": args.slow_ms,
                                   "drop_after_commit_rate": args.drop_after_commit_rate})
    except InvalidRequest as err:
        p.error(f"--{err.field.replace('_', '-')}: {err.message}")
    try:
        tokens = read_tokens(token_file)
        staff = read_tokens(args.staff_token_file)
        ssl_ctx = tls_context(args.cert, args.key) if args.cert else None
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
        store = CentralStore(args.db)
        server = CentralServer((args.host, args.port), store, tokens, staff[0] if staff else "", faults,
                               args.seed, ssl_ctx)
    except (OSError, ValueError, sqlite3.Error) as err:
        print(f"lobby-sync: central cannot start: {err}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        serve(server)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
