"""`lobby-devices`: simulators, device status and commands for technicians, the serial bridge."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from devices import logs, topics
from devices.errors import DevicesError
from devices.settings import ConfigError, DevicesSettings, load

KINDS = ("door", "locker", "health")


def _settings(args: argparse.Namespace) -> DevicesSettings:
    """The config file (if any) with --broker, the broker login options and --building on top."""
    from devices.mqtt import parse_broker

    path = args.config or os.environ.get("LOBBY_KIOSK_CONFIG")
    settings = load(path) if path else DevicesSettings(state_dir=tempfile.gettempdir())
    if args.broker:
        try:
            settings = replace(settings, broker=parse_broker(args.broker, settings.broker))
        except ValueError as err:
            raise ConfigError("--broker", str(err)) from None
    login = {key: getattr(args, key) for key in ("username", "password_file", "ca_file")
             if getattr(args, key, None)}
    if login:
        settings = replace(settings, broker=replace(settings.broker, **login))
    if args.building:
        if not topics.valid_id(args.building):
            raise ConfigError("--building", "must match [a-z0-9][a-z0-9-]{0,31}")
        settings = replace(settings, building_id=args.building)
    return settings


def _wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(1.0):
        pass


def _codes(text: str) -> list[str]:
    codes = [c.strip() for c in text.split(",") if c.strip()]
    bad = [c for c in codes if not (len(c) == 6 and c.isdigit())]
    if bad:
        raise argparse.ArgumentTypeError("codes are six digits each, comma-separated")
    return codes


def _fault(text: str) -> tuple[str, str]:
    device_id, sep, spec = text.partition("=")
    if not sep or not topics.valid_id(device_id):
        raise argparse.ArgumentTypeError("expected DEVICE-ID=FAULT, e.g. locker-1=jam")
    return device_id, spec


def cmd_simulate(args: argparse.Namespace) -> int:
    from devices.simulator.runner import SimConfig, Simulation

    settings = _settings(args)
    config = SimConfig(settings.broker, settings.building_id, args.doors, args.lockers, args.compartments,
                       args.health, args.codes, args.keepalive, args.measure_seconds, args.door_close_seconds,
                       dict(args.fault), args.seed)
    try:
        sim = Simulation(config)
    except ValueError as err:
        raise ConfigError("--fault", str(err)) from None
    sim.start()
    if not sim.wait_ready(args.ready_timeout):
        print(f"lobby-devices simulate: broker {settings.broker.host}:{settings.broker.port} not reachable "
              f"within {args.ready_timeout:g} s", file=sys.stderr)
        sim.stop(graceful=False)
        return 1
    print(f"simulate: ready ({len(sim.devices)} devices in building {settings.building_id})", flush=True)
    _wait_for_signal()
    sim.stop()
    return 0


def _link(args: argparse.Namespace):
    from devices.link import BuildingLink
    from devices.pickup_guard import PickupGuard

    settings = _settings(args)
    guard = PickupGuard(os.path.join(tempfile.gettempdir(), f"lobby-devices-{os.getpid()}-guard.json"))
    link = BuildingLink(settings, announce=False, kiosk_id=f"tech-{os.getpid() % 100000}", guard=guard)
    link.start()
    if not link.wait_connected(args.timeout):
        link.stop()
        raise DevicesError(f"broker {settings.broker.host}:{settings.broker.port} not reachable "
                           f"within {args.timeout:g} s")
    return link


def _when(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if epoch else None


def status_rows(link: Any) -> list[dict[str, Any]]:
    """Every device, then every kiosk, as `{kind, id, availability, fault, last_seen}`."""
    rows = [{"kind": d.kind, "id": d.id, "availability": d.availability, "fault": d.fault,
             "last_seen": _when(d.last_seen)} for d in link.registry.snapshot()]
    rows += [{"kind": "kiosk", "id": k.id, "availability": k.availability, "fault": None,
              "last_seen": _when(k.last_seen)} for k in link.registry.kiosks()]
    return rows


def cmd_status(args: argparse.Namespace) -> int:
    link = _link(args)
    try:
        time.sleep(args.wait)  # retained topics arrive right after subscribing
        rows = status_rows(link)
    finally:
        link.stop()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print(f"no devices or kiosks seen in building {link.building}")
        return 0
    print(f"{'KIND':<8} {'ID':<16} {'AVAILABILITY':<13} {'FAULT':<10} LAST SEEN")
    for r in rows:
        print(f"{r['kind']:<8} {r['id']:<16} {r['availability']:<13} {r['fault'] or '-':<10} {r['last_seen'] or '-'}")
    return 0


def cmd_cmd(args: argparse.Namespace) -> int:
    from devices.errors import DeviceError

    try:
        cmd_args = json.loads(args.json_args) if args.json_args else {}
    except ValueError:
        raise ConfigError("JSON-ARGS", "not valid JSON") from None
    if not isinstance(cmd_args, dict):
        raise ConfigError("JSON-ARGS", "expected a JSON object")
    link = _link(args)
    try:
        deadline = time.monotonic() + 1.0
        while link.registry.get(args.kind, args.id) is None and time.monotonic() < deadline:
            time.sleep(0.02)  # learn the device's availability (retained) before sending
        future = link.command(args.kind, args.id, args.op, cmd_args, timeout=args.reply_timeout, force=args.force)
        try:
            result = future.result()
        except DeviceError as err:
            print(json.dumps({"ok": False, "error": {"code": err.code, "message": err.message}},
                             ensure_ascii=False))
            return 1
    finally:
        link.stop()
    print(json.dumps({"ok": True, "result": result}, ensure_ascii=False))
    return 0


def cmd_serial_bridge(args: argparse.Namespace) -> int:
    from devices.serial.bridge import SerialBridge

    settings = _settings(args)
    try:
        bridge = SerialBridge(settings.broker, settings.building_id, args.kind, args.id, args.device, args.protocol,
                              boards=args.boards, codes_file=args.codes_file, poll_s=args.poll_seconds)
    except ValueError as err:
        raise ConfigError("serial-bridge", str(err)) from None
    bridge.start()
    _wait_for_signal()
    bridge.stop()
    return 0


def cmd_simulate_serial(args: argparse.Namespace) -> int:
    import random

    from devices.messages import Reading
    from devices.simulator.serial_devices import SimKerongBoards, SimVisomat

    master, slave = os.openpty()
    target = os.ttyname(slave)
    link = args.tty
    tmp = f"{link}.new"
    try:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError as err:
        raise ConfigError("--tty", f"cannot create {link}: {err}") from None
    device: SimVisomat | SimKerongBoards
    if args.protocol == "visomat":
        device = SimVisomat(master)
    else:
        boards = [int(b) for b in args.boards.split(",") if b.strip()]
        device = SimKerongBoards(master, boards)
        for board in boards:
            device.item_bits[board] = 0b0101_0101_0101_0101  # every other compartment holds a parcel
    device.noise = args.noise
    device.start()
    print(f"simulate-serial: ready ({args.protocol} on {link} -> {target})", flush=True)
    rng = random.Random(args.seed)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(args.reading_every or 1.0):
        if isinstance(device, SimVisomat) and args.reading_every:
            systolic = rng.randint(108, 158)
            device.measure(Reading(systolic, rng.randint(62, min(98, systolic - 30)), rng.randint(56, 96)),
                           at=datetime.now().replace(second=0, microsecond=0))
    device.stop()
    os.close(slave)
    os.close(master)
    if os.path.islink(link):
        os.unlink(link)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="kiosk TOML config ([site], [broker]); "
                   "default $LOBBY_KIOSK_CONFIG, else built-in defaults")
    p.add_argument("--broker", metavar="HOST:PORT", help="broker address (overrides the config; "
                   "mqtts://HOST:PORT for TLS)")
    p.add_argument("--building", metavar="B", help="building id (overrides [site] building_id)")
    p.add_argument("--username", metavar="U", help="broker login (overrides [broker] username)")
    p.add_argument("--password-file", metavar="FILE", help="file holding the broker password "
                   "(overrides [broker] password_file; never a password on the command line)")
    p.add_argument("--ca-file", metavar="FILE", help="CA certificate for a TLS broker (overrides [broker] ca_file)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lobby-devices", description="Devices of a lobby-kiosk building: "
                                "simulators, status and commands for technicians, serial bridge.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("simulate", help="run simulated doors, locker banks and health stations",
                       description="Run simulated devices that speak the MQTT contract. Prints "
                       "'simulate: ready ...' on stdout once every device is online; stops on SIGTERM/SIGINT.")
    _common(s)
    s.add_argument("--doors", type=int, default=1, metavar="N")
    s.add_argument("--lockers", type=int, default=1, metavar="N")
    s.add_argument("--compartments", type=int, default=24, metavar="N", help="per locker bank (default 24)")
    s.add_argument("--health", type=int, default=1, metavar="N")
    s.add_argument("--codes", type=_codes, default=[], metavar="C1,C2,...",
                   help="pick-up codes; each opens one occupied compartment once (dealt round-robin to banks)")
    s.add_argument("--fault", type=_fault, action="append", default=[], metavar="ID=FAULT",
                   help="inject a fault at start: jam, offline, slow[:SECONDS], malformed (repeatable)")
    s.add_argument("--measure-seconds", type=float, default=3.0, metavar="S",
                   help="how long a blood-pressure measurement takes (default 3)")
    s.add_argument("--door-close-seconds", type=float, default=2.0, metavar="S",
                   help="a compartment door closes this long after opening (default 2)")
    s.add_argument("--keepalive", type=int, default=10, metavar="S", help="MQTT keepalive of each device")
    s.add_argument("--seed", type=int, default=0, help="random seed of readings")
    s.add_argument("--ready-timeout", type=float, default=15.0, metavar="S", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_simulate)

    st = sub.add_parser("status", help="print every device and kiosk of the building",
                        description="Connect, wait briefly for retained topics, print every device "
                        "(kind, id, availability, fault, last seen) and the kiosks' availability.")
    _common(st)
    st.add_argument("--json", action="store_true", help="a JSON list of {kind, id, availability, fault, last_seen}")
    st.add_argument("--wait", type=float, default=1.0, metavar="S", help="how long to collect (default 1)")
    st.add_argument("--timeout", type=float, default=5.0, metavar="S", help="connect timeout (default 5)")
    st.set_defaults(func=cmd_status)

    c = sub.add_parser("cmd", help="send one command to one device and print the reply",
                       description="Send one command (e.g. `door door-1 unlock '{\"seconds\": 3}'`) "
                       "and print the reply as JSON; exit 1 on an error reply.")
    _common(c)
    c.add_argument("kind", choices=KINDS, metavar="KIND", help="door, locker or health")
    c.add_argument("id", metavar="ID")
    c.add_argument("op", metavar="OP", help="unlock, pickup, open, measure, status, ...")
    c.add_argument("json_args", nargs="?", metavar="JSON-ARGS", help="the command's args as a JSON object")
    c.add_argument("--force", action="store_true", help="send even if the device is known offline")
    c.add_argument("--reply-timeout", type=float, default=5.0, metavar="S")
    c.add_argument("--timeout", type=float, default=5.0, metavar="S", help="connect timeout (default 5)")
    c.set_defaults(func=cmd_cmd)

    b = sub.add_parser("serial-bridge", help="publish a serial-port device on MQTT",
                       description="Read a serial device and publish it on MQTT exactly like a networked "
                       "device; MQTT commands become serial frames. See docs/serial-protocols.md.")
    _common(b)
    b.add_argument("--device", required=True, metavar="URI",
                   help="serial:///dev/ttyUSB0?baud=19200, loop://, socket://HOST:PORT, rfc2217://...")
    b.add_argument("--protocol", required=True, choices=("visomat", "kerong"), metavar="NAME",
                   help="visomat (blood pressure) or kerong (Kerong CU16 locker board)")
    b.add_argument("--kind", required=True, choices=("health", "locker"), metavar="KIND")
    b.add_argument("--id", required=True, metavar="ID", help="device id on MQTT, e.g. health-2")
    b.add_argument("--boards", default="0", metavar="A,B,...",
                   help="kerong: board addresses of this bank, 16 compartments each (default 0)")
    b.add_argument("--codes-file", metavar="FILE",
                   help="kerong: JSON {\"123456\": \"A03\"} of pick-up codes (each used once)")
    b.add_argument("--poll-seconds", type=float, default=1.0, metavar="S", help="poll interval (default 1)")
    b.set_defaults(func=cmd_serial_bridge)

    ss = sub.add_parser("simulate-serial", help="simulated serial hardware on a pty (for the serial bridge)",
                        description="Create a pty, link its device to --tty, and answer on it like a "
                        "Visomat monitor or Kerong CU16 boards. Point `serial-bridge --device serial://TTY` at it.")
    ss.add_argument("--protocol", required=True, choices=("visomat", "kerong"), metavar="NAME",
                    help="visomat (blood pressure) or kerong (CU16 locker boards)")
    ss.add_argument("--tty", required=True, metavar="PATH", help="symlink to create for the pty, e.g. /tmp/ttyBP")
    ss.add_argument("--boards", default="0", metavar="A,B,...", help="kerong: board addresses (default 0)")
    ss.add_argument("--reading-every", type=float, default=0.0, metavar="S",
                    help="visomat: store a new reading every S seconds (a resident measuring)")
    ss.add_argument("--noise", action="store_true", help="line noise before every answer")
    ss.add_argument("--seed", type=int, default=0)
    ss.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    ss.set_defaults(func=cmd_simulate_serial)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `lobby-devices`."""
    args = parser().parse_args(argv)
    if args.command == "serial-bridge":
        pairs = {("visomat", "health"), ("kerong", "locker")}
        if (args.protocol, args.kind) not in pairs:
            parser().error(f"--protocol {args.protocol} drives --kind "
                           f"{dict(pairs)[args.protocol]}, not {args.kind}")
        if not topics.valid_id(args.id):
            parser().error("--id must match [a-z0-9][a-z0-9-]{0,31}")
    logs.setup(args.verbose)
    if args.command in ("status", "cmd") and not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)  # a technician wants the answer, not the chatter
    try:
        return args.func(args)
    except (ConfigError, DevicesError) as err:
        print(f"lobby-devices {args.command}: {err}", file=sys.stderr)
        return 2 if isinstance(err, ConfigError) else 1


if __name__ == "__main__":
    sys.exit(main())
