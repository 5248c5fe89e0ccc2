"""sd_notify: READY=1 once home is interactive, WATCHDOG=1 from the Kivy main loop, to a real
unix datagram socket bound by the test (as systemd's $NOTIFY_SOCKET)."""

from __future__ import annotations

import socket

from kiosk.watchdog import Notifier


def _bound(path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    return sock


def _drain(sock: socket.socket, into: list[str]) -> None:
    while True:
        try:
            into.append(sock.recv(256).decode())
        except BlockingIOError:
            return


def test_app_sends_ready_then_watchdog_pings_from_the_main_loop(kiosk_app, drive, tmp_path):
    sock = _bound(tmp_path / "notify.sock")
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "1000000"})
    assert notifier.interval_s == 0.5
    app = kiosk_app(notifier=notifier)
    got: list[str] = []

    def scenario(d):
        yield from d.wait(lambda: (_drain(sock, got), got.count("WATCHDOG=1") >= 3)[1], what="three pings")
        assert got[0] == "READY=1"
        assert got.count("READY=1") == 1

    try:
        drive(app, scenario)
        _drain(sock, got)
        assert got[-1] == "STOPPING=1"
    finally:
        sock.close()


def test_notifier_without_socket_does_nothing_and_reports_a_dead_socket(tmp_path, caplog):
    assert not Notifier.from_env({}).enabled
    assert Notifier.from_env({}).ping() is False
    dead = Notifier(str(tmp_path / "nobody-listens.sock"))
    assert dead.ready() is False and dead.ping() is False
    assert sum("cannot notify systemd" in r.message for r in caplog.records) == 1  # warned once


def test_notifier_speaks_to_an_abstract_socket():
    name = f"lobby-kiosk-test-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert Notifier("@" + name).ready()
        assert sock.recv(64) == b"READY=1"
    finally:
        sock.close()
