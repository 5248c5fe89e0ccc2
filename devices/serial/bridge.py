"""`lobby-devices serial-bridge`: a serial device published on MQTT exactly like a networked one.

The port is owned by one thread (`serial-<id>`) with one reconnect policy: open (retry every
second), poll the device every `poll_s`, run queued MQTT commands between polls. A port that
fails (cable pulled, adapter unplugged) or a device that stops answering for `offline_after_s`
makes the device `offline` (retained); it comes back by itself when the port answers again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

import serial

from devices.endpoint import DeviceEndpoint, Respond
from devices.errors import SerialLinkError
from devices.messages import Command, Event, Reply, now_iso
from devices.serial.drivers import Driver, KerongDriver, VisomatDriver
from devices.serial.transport import check_uri, open_port
from devices.settings import BrokerSettings

log = logging.getLogger(__name__)

PROTOCOLS = {"visomat": "health", "kerong": "locker"}


class SerialBridge:
    """One serial device <-> one MQTT device endpoint."""

    def __init__(self, broker: BrokerSettings, building: str, kind: str, device_id: str, uri: str, protocol: str,
                 *, boards: str = "0", codes_file: str | None = None, poll_s: float = 1.0,
                 offline_after_s: float = 5.0, keepalive: int = 30) -> None:
        if PROTOCOLS.get(protocol) != kind:
            raise ValueError(f"protocol {protocol!r} does not drive kind {kind!r}")
        check_uri(uri)
        self.uri, self.id = uri, device_id
        self.poll_s, self.offline_after_s = poll_s, offline_after_s
        self.endpoint = DeviceEndpoint(broker, building, kind, device_id, self._on_command, keepalive=keepalive)
        self.driver: Driver
        if protocol == "visomat":
            self.driver = VisomatDriver(self._publish_state, self._publish_event)
        else:
            board_ids = [int(b) for b in boards.split(",") if b.strip()]
            if not board_ids or any(not 0 <= b <= 15 for b in board_ids):
                raise ValueError("--boards are addresses 0..15, comma-separated")
            self.driver = KerongDriver(self._publish_state, self._publish_event, board_ids,
                                       Path(codes_file) if codes_file else None)
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._online = False
        self._thread: threading.Thread | None = None

    @property
    def online(self) -> bool:
        return self._online

    def start(self) -> None:
        self.endpoint.set_available(False)  # unknown until the device answers on the port
        self.endpoint.publish_state(self.driver.state(False))
        self.endpoint.start()
        self._thread = threading.Thread(target=self._run, name=f"serial-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self.endpoint.stop()

    # ---- MQTT side ----------------------------------------------------------------------------

    def _on_command(self, cmd: Command, args: dict[str, Any], respond: Respond) -> None:
        if cmd.op == "status":
            respond(Reply.success(cmd.id, self.driver.state(self._online)))
        else:
            self._commands.put((cmd, args, respond))

    def _publish_state(self) -> None:
        self.endpoint.publish_state(self.driver.state(self._online))

    def _publish_event(self, etype: str, **fields: Any) -> None:
        self.endpoint.publish_event(Event(etype, now_iso(), fields))

    def _set_online(self, online: bool, reason: str = "") -> None:
        if online == self._online:
            return
        self._online = online
        if online:
            log.info("serial %s: device answering on %s", self.id, self.uri)
        else:
            log.warning("serial %s: offline (%s)", self.id, reason)
        self._publish_state()
        self.endpoint.set_available(online)

    # ---- serial thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = open_port(self.uri)
            except SerialLinkError as err:
                self._set_online(False, str(err))
                self._stop.wait(1.0)
                continue
            try:
                self._serve(port)
            except (serial.SerialException, OSError, SerialLinkError) as err:
                self._set_online(False, f"port failed: {err}")
            except Exception:  # noqa: BLE001
                # The one catch-all of the serial link: an unexpected driver error must not end the
                # thread (the device would stay offline forever); log it and reopen the port.
                log.exception("serial %s: unexpected error; reopening the port", self.id)
                self._set_online(False, "internal error")
            finally:
                try:
                    port.close()
                except (serial.SerialException, OSError):
                    pass  # already gone with the cable
            self._stop.wait(1.0)

    def _serve(self, port: serial.SerialBase) -> None:
        self.driver.reset()
        last_ok = time.monotonic()
        while not self._stop.is_set():
            if self.driver.poll(port):
                last_ok = time.monotonic()
                self._set_online(True)
            elif time.monotonic() - last_ok > self.offline_after_s:
                self._set_online(False, f"no answer for {self.offline_after_s:g} s")
            deadline = time.monotonic() + self.poll_s
            while (remaining := deadline - time.monotonic()) > 0 and not self._stop.is_set():
                try:
                    cmd, args, respond = self._commands.get(timeout=remaining)
                except queue.Empty:
                    break
                if not self._online:
                    respond(Reply.failure(cmd.id, "offline", "the device does not answer on its serial port"))
                elif cmd.expired():
                    respond(Reply.failure(cmd.id, "expired", "command expired while queued"))
                else:
                    self.driver.execute(port, cmd, args, respond)
