"""paho-mqtt plumbing shared by the kiosk link and the device side (simulators, serial bridge):
client creation from `BrokerSettings` (TLS, user/password, TCP_NODELAY) and the one loop
each long-lived connection runs on its own named thread."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from devices.errors import DevicesError
from devices.settings import BrokerSettings

log = logging.getLogger(__name__)

MQTTv5, MQTTv311 = paho.MQTTv5, paho.MQTTv311
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.25, 5.0


def parse_broker(address: str, base: BrokerSettings | None = None) -> BrokerSettings:
    """`HOST:PORT` (or `mqtt://HOST:PORT`, `mqtts://HOST:PORT` for TLS) on top of `base`."""
    base = base or BrokerSettings()
    tls = base.tls
    for scheme, is_tls in (("mqtt://", False), ("mqtts://", True)):
        if address.startswith(scheme):
            address, tls = address[len(scheme):], is_tls
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = address, str(8883 if tls else 1883)
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"broker address must be HOST:PORT, got {address!r}")
    return replace(base, host=host, port=int(port), tls=tls)


def _nodelay(client: paho.Client, userdata: object, sock: socket.socket) -> None:
    """Nagle off: small request/reply messages otherwise wait ~40 ms for ACKs (platform facts)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # not a TCP socket (e.g. a unix socket): nothing to tune


def make_client(broker: BrokerSettings, client_id: str, protocol: int = MQTTv5) -> paho.Client:
    """A configured, not yet connected paho client."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                         reconnect_on_failure=True)
    client.on_socket_open = _nodelay
    client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)  # type: ignore[arg-type]
    if broker.tls:
        try:
            client.tls_set(ca_certs=broker.ca_file, certfile=broker.cert_file, keyfile=broker.key_file,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        except (OSError, ValueError) as err:
            raise DevicesError(f"broker TLS setup failed: {err}") from err
    if broker.username:
        try:
            password = broker.password()
        except OSError as err:
            raise DevicesError(f"broker password file unreadable: {err}") from err
        client.username_pw_set(broker.username, password)
    return client


def run_forever(client: paho.Client, broker: BrokerSettings, keepalive: int, stop: threading.Event,
                name: str, clean_start: bool = True) -> None:
    """Connect and keep reconnecting (paho's capped exponential backoff) until `stop` is set
    and `client.disconnect()` was called. Returns when the client loop ends."""
    kwargs = {"clean_start": clean_start} if client.protocol == MQTTv5 else {}
    client.connect_async(broker.host, broker.port, keepalive, **kwargs)
    while not stop.is_set():
        try:
            client.loop_forever(retry_first_connection=True)
            return
        except Exception:  # noqa: BLE001
            # The one catch-all of this connection: an unexpected error inside paho or a
            # callback must not end the thread (the kiosk would go deaf); log, back off, go on.
            log.exception("%s: MQTT loop failed; reconnecting", name)
            time.sleep(RECONNECT_MAX_S)


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
