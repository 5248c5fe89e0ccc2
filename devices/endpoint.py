"""The device side of the building contract, shared by the simulators and the serial bridge:
one MQTT connection per device with its availability as last will, retained availability and
state restored on every connect, commands validated and answered at most once per id."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

from devices import kinds, topics
from devices.messages import Command, Event, MessageError, Reply, encode_json, now_iso
from devices.mqtt import make_client, run_forever, start_thread
from devices.settings import BrokerSettings
from devices.throttle import ThrottledLog

log = logging.getLogger(__name__)

Respond = Callable[[Reply], None]
Handler = Callable[[Command, dict[str, Any], Respond], None]
ANSWERED_MEMORY = 1024


class DeviceEndpoint:
    """Publishes one device on the broker and hands its valid, unexpired, new commands to `handler`
    (on the MQTT thread: handlers must not block; they call `respond` now or later)."""

    def __init__(self, broker: BrokerSettings, building: str, kind: str, device_id: str, handler: Handler, *,
                 keepalive: int = 30, control: Callable[[bytes], None] | None = None) -> None:
        self.broker, self.building, self.kind, self.id = broker, building, kind, device_id
        self._module = kinds.get(kind)
        self._handler, self._control = handler, control
        self._keepalive = keepalive
        self._lock = threading.Lock()
        self._answered: OrderedDict[str, tuple[str, Reply | None]] = OrderedDict()
        self._state: bytes | None = None
        self._available = True
        self._stop = threading.Event()
        self._client: paho.Client | None = None
        self._thread: threading.Thread | None = None
        self._ready_mid: int | None = None
        self.ready = threading.Event()
        self.connected = threading.Event()
        self._drops = ThrottledLog(log)

    def topic(self, leaf: str) -> str:
        return topics.device(self.building, self.kind, self.id, leaf)

    def start(self) -> None:
        """Connect on the thread `device-<id>`; `ready` is set once `online` reached the broker."""
        client = make_client(self.broker, f"dev-{self.building}-{self.kind}-{self.id}")
        client.will_set(self.topic("availability"), "offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *a: self.connected.clear()
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self._client = client
        self._thread = start_thread(
            lambda: run_forever(client, self.broker, self._keepalive, self._stop, f"device-{self.id}"),
            f"device-{self.id}")

    def stop(self, graceful: bool = True) -> None:
        """Disconnect; with `graceful`, say `offline` first (a crash leaves it to the last will)."""
        self._stop.set()
        client = self._client
        if client is None:
            return
        if graceful and self.connected.is_set():
            info = client.publish(self.topic("availability"), "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(1.0)
            except (RuntimeError, ValueError):
                pass  # connection already gone: the last will says offline
        client.disconnect()
        if self._thread:
            self._thread.join(5)

    # ---- publishing ----------------------------------------------------------------------------

    def publish_state(self, state: dict[str, Any]) -> None:
        """Publish (retained) and remember the state object; it is republished on reconnect."""
        self._state = encode_json({**state, "ts": state.get("ts") or now_iso()})
        self._publish(self.topic("state"), self._state, retain=True)

    def publish_event(self, event: Event) -> None:
        self._publish(self.topic("event"), event.to_payload())

    def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish anything (the simulators' `malformed` fault uses this)."""
        self._publish(topic, payload, retain=retain)

    def set_available(self, available: bool) -> None:
        """Say `online` or `offline` (retained) while staying connected."""
        self._available = available
        self._publish(self.topic("availability"), "online" if available else "offline", retain=True)

    @property
    def available(self) -> bool:
        return self._available

    def _publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        client = self._client
        if client is not None:
            client.publish(topic, payload, qos=1, retain=retain)

    # ---- MQTT callbacks ----------------------------------------------------------------------------

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("%s %s: broker refused the connection: %s", self.kind, self.id, reason_code)
            return
        subs = [(self.topic("cmd"), 1)]
        if self._control is not None:
            subs.append((topics.sim_fault(self.building, self.id), 1))
        client.subscribe(subs)
        if self._state is not None:
            client.publish(self.topic("state"), self._state, qos=1, retain=True)
        info = client.publish(self.topic("availability"), "online" if self._available else "offline",
                              qos=1, retain=True)
        self._ready_mid = info.mid
        self.connected.set()

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        if mid == self._ready_mid:
            self.ready.set()

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if msg.topic == self.topic("cmd"):
            self._on_command(msg.payload)
        elif self._control is not None:
            self._control(msg.payload)

    def _on_command(self, payload: bytes) -> None:
        try:
            cmd = Command.from_payload(payload)
        except MessageError as err:
            self._drops.warning("cmd", "%s %s: dropped a bad command: %s", self.kind, self.id, err)
            self._answer_bad(payload, str(err))
            return
        if not self._available:
            return  # an offline device answers nothing; the kiosk times out
        if cmd.expired():
            log.info("%s %s: ignored expired command %s", self.kind, self.id, cmd.id)
            return
        with self._lock:
            seen = self._answered.get(cmd.id)
            if seen is None:
                self._answered[cmd.id] = (cmd.reply_to, None)
                while len(self._answered) > ANSWERED_MEMORY:
                    self._answered.popitem(last=False)
        if seen is not None:
            if seen[1] is not None:  # a repeated id gets the first answer again; nothing is repeated
                self._publish(seen[0], seen[1].to_payload())
            return
        respond = self._responder(cmd)
        if self._module is None or cmd.op not in self._module.OPS:
            respond(Reply.failure(cmd.id, "bad_request", f"unknown op {cmd.op!r}"))
            return
        try:
            args = self._module.check_args(cmd.op, cmd.args)
        except MessageError as err:
            respond(Reply.failure(cmd.id, "bad_request", str(err)))
            return
        self._handler(cmd, args, respond)

    def _responder(self, cmd: Command) -> Respond:
        def respond(reply: Reply) -> None:
            with self._lock:
                if cmd.id in self._answered:
                    self._answered[cmd.id] = (cmd.reply_to, reply)
            self._publish(cmd.reply_to, reply.to_payload())
        return respond

    def _answer_bad(self, payload: bytes, reason: str) -> None:
        """Answer `bad_request` when a broken command still says who asked and under which id."""
        try:
            obj = json.loads(payload)
            cmd_id, reply_to = obj["id"], obj["reply_to"]
        except (ValueError, TypeError, KeyError):
            return
        if not (isinstance(cmd_id, str) and 0 < len(cmd_id) <= 64 and isinstance(reply_to, str)):
            return
        target = topics.parse(reply_to, self.building)
        if target is not None and target.kind == topics.KIOSK and target.leaf == "reply":
            self._publish(reply_to, Reply.failure(cmd_id, "bad_request", reason).to_payload())
