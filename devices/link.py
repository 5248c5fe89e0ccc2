"""The kiosk's link to its building's MQTT broker: registry, commands, pick-up, kiosk state.

One paho client (MQTT 5, falling back to 3.1.1 if the broker refuses) on the thread
`devices-link-<building>`, reconnecting forever with capped backoff; every subscription and
the kiosk's retained topics are restored on each connect. Futures are resolved, and listeners
called, on a second thread (`devices-link-<building>-worker`), never on paho's network thread.
"""

from __future__ import annotations

import heapq
import importlib.metadata
import itertools
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devices import ha_discovery, kinds, messages, topics
from devices.errors import DeviceError, DevicesError, InvalidCode, Offline, PickupLocked, Timeout
from devices.messages import Command, KioskState, MessageError, Reading, Reply
from devices.mqtt import MQTTv5, MQTTv311, make_client, run_forever, start_thread
from devices.pickup import PickupAttempt
from devices.pickup_guard import PickupGuard
from devices.registry import OFFLINE, ONLINE, DeviceInfo, Registry
from devices.settings import DevicesSettings
from devices.throttle import ThrottledLog

log = logging.getLogger(__name__)

Listener = Callable[[DeviceInfo], None]
ConnectionListener = Callable[[bool], None]
MAX_DEVICES = 2000  # far above any building; bounds memory if a misconfigured broker lets anyone publish
_STOP = object()


@dataclass
class _Pending:
    future: Future
    kind: str
    device_id: str
    op: str
    timeout_s: float


class BuildingLink:
    """See docs/architecture.md ("devices") and docs/devices.md. No I/O in `__init__`."""

    def __init__(self, settings: DevicesSettings, *, guard: PickupGuard | None = None, announce: bool = True,
                 kiosk_id: str | None = None, measure_timeout_s: float = 90.0) -> None:
        self.settings = settings
        self.building = settings.building_id
        self.kiosk_id = kiosk_id or settings.kiosk_id
        self.registry = Registry()
        self._guard = guard or PickupGuard(Path(settings.state_dir) / "pickup-guard.json")
        self._announce = announce
        self._measure_timeout_s = measure_timeout_s
        self._reply_topic = topics.kiosk(self.building, self.kiosk_id, "reply")
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._measures: dict[str, list[Future]] = {}
        self._listeners: list[Listener] = []
        self._conn_listeners: list[ConnectionListener] = []
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._client: paho.Client | None = None
        self._protocol = MQTTv5
        self._fallback = False
        self._threads: list[threading.Thread] = []
        # MQTT 5 response-topic on every command, built once (paho's Properties are slow to build);
        # the JSON `reply_to` and `id` are what counts (contract), so no correlation-data.
        self._cmd_properties = Properties(PacketTypes.PUBLISH)
        self._cmd_properties.ResponseTopic = self._reply_topic
        self._timers: list[tuple[float, int, Callable[[], None]]] = []  # heap, guarded by _lock
        self._seq = itertools.count()
        self._kiosk_state = KioskState(version="")
        self._drops = ThrottledLog(log)
        self._ha_sent: set[tuple[str, str]] = set()
        self.received = 0

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for the connection; True if connected."""
        return self._connected.wait(timeout)

    def start(self) -> None:
        """Start the network and worker threads; returns at once. Raises DevicesError if the TLS
        or password configuration cannot be used."""
        if self._threads:
            return
        try:
            version = importlib.metadata.version("lobby-kiosk")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
        self._kiosk_state = KioskState(version=version)
        self._client = self._new_client()
        name = f"devices-link-{self.building}"
        self._threads = [start_thread(self._work, f"{name}-worker"), start_thread(self._run, name)]

    def stop(self) -> None:
        """Say `offline` (retained), disconnect, stop the threads; pending commands fail with Offline."""
        self._stop.set()
        client = self._client
        if client is not None:
            if self._announce and self.connected:
                info = client.publish(self._topic("availability"), "offline", qos=1, retain=True)
                try:
                    info.wait_for_publish(1.0)
                except (RuntimeError, ValueError):
                    pass  # not connected any more: the broker publishes our last will instead
            client.disconnect()
        self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(5)
        with self._lock:
            pending, self._pending = self._pending, {}
            measures, self._measures = self._measures, {}
        for p in pending.values():
            _fail(p.future, Offline("link stopped"))
        for waiters in measures.values():
            for fut in waiters:
                _fail(fut, Offline("link stopped"))
        self._connected.clear()

    def add_listener(self, fn: Listener) -> None:
        """Call `fn(DeviceInfo)` on the link's worker thread whenever a device changes."""
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def add_connection_listener(self, fn: ConnectionListener) -> None:
        """Call `fn(connected: bool)` on the link's worker thread (never paho's) each time the
        broker connection comes up or goes down."""
        with self._lock:
            self._conn_listeners.append(fn)

    def remove_connection_listener(self, fn: ConnectionListener) -> None:
        with self._lock:
            if fn in self._conn_listeners:
                self._conn_listeners.remove(fn)

    # ---- commands --------------------------------------------------------------------------

    def command(self, kind: str, device_id: str, op: str, args: dict[str, Any] | None = None, *,
                timeout: float | None = None, force: bool = False) -> Future[dict[str, Any]]:
        """Send one command; the future gets the reply's `result` or fails with Timeout, Offline or
        DeviceError(code). Fails at once with Offline if the device is known offline (or the broker
        is unreachable) unless `force`."""
        fut: Future[dict[str, Any]] = Future()
        client = self._client
        if not force:
            reason = self._offline_reason(kind, device_id)
            if reason:
                fut.set_exception(Offline(reason))
                return fut
        if client is None:
            fut.set_exception(Offline("the link is not started"))
            return fut
        timeout_s = timeout or self.settings.broker.command_timeout_s
        cmd = Command.new(op, args, self._reply_topic, timeout_s)
        with self._lock:
            self._pending[cmd.id] = _Pending(fut, kind, device_id, op, timeout_s)
        self._schedule(timeout_s, lambda: self._expire(cmd.id))
        client.publish(topics.device(self.building, kind, device_id, "cmd"), cmd.to_payload(), qos=1,
                       properties=self._cmd_properties if self._protocol == MQTTv5 else None)
        return fut

    def status(self, kind: str, device_id: str, *, force: bool = False) -> Future[dict[str, Any]]:
        """The device's state object, asked for with the `status` op and validated."""
        module = kinds.get(kind)
        if module is None:
            raise ValueError(f"unknown kind {kind!r}")
        return _then(self.command(kind, device_id, "status", force=force),
                     lambda result: module.State.from_dict(result).to_dict())

    def door(self, device_id: str) -> kinds.door.Client:
        return kinds.door.Client(self, device_id)

    def locker(self, device_id: str) -> kinds.locker.Client:
        return kinds.locker.Client(self, device_id)

    def health(self, device_id: str) -> kinds.health.Client:
        return kinds.health.Client(self, device_id)

    def pickup(self, code: str, *, banks: list[str] | None = None, force: bool = False) -> Future[dict[str, Any]]:
        """Open the compartment holding the parcel for `code`; result `{"locker", "compartment"}`.
        Raises InvalidCode (not six digits) or PickupLocked at once, before anything is sent."""
        if not isinstance(code, str) or not messages.PICKUP_CODE.match(code):
            raise InvalidCode("a pick-up code is exactly six digits")
        remaining = self._guard.lockout_remaining()
        if remaining > 0:
            raise PickupLocked(remaining)
        if banks is None:
            banks = [d.id for d in self.registry.snapshot(kinds.locker.KIND) if d.availability == ONLINE]
        if not banks:
            fut: Future[dict[str, Any]] = Future()
            fut.set_exception(Offline("no parcel-locker bank is online"))
            return fut

        def send(bank: str, op: str, args: dict[str, Any]) -> Future[dict[str, Any]]:
            return self.command(kinds.locker.KIND, bank, op, args, force=force)

        return PickupAttempt(send, self._guard, code, banks).start()

    def pickup_lockout_remaining(self) -> float:
        """Seconds left of a pick-up lock-out, or 0."""
        return self._guard.lockout_remaining()

    def measure(self, device_id: str, *, force: bool = False) -> Future[Reading]:
        """Start a blood-pressure measurement; resolves with the station's next `reading`."""
        result: Future[Reading] = Future()
        with self._lock:
            self._measures.setdefault(device_id, []).append(result)

        def sent(fut: Future) -> None:
            err = fut.exception()
            if err is not None:
                self._drop_waiter(device_id, result)
                _fail(result, err)

        self.command(kinds.health.KIND, device_id, "measure", force=force).add_done_callback(sent)
        self._schedule(self._measure_timeout_s, lambda: self._measure_expired(device_id, result))
        return result

    def publish_kiosk_state(self, *, voice_ready: bool | None = None, outbox_depth: int | None = None,
                            oldest_pending_s: float | None = None) -> None:
        """Update and publish (retained) this kiosk's state; it is republished on every reconnect."""
        s = self._kiosk_state
        self._kiosk_state = KioskState(
            s.version, s.voice_ready if voice_ready is None else bool(voice_ready),
            s.outbox_depth if outbox_depth is None else int(outbox_depth),
            oldest_pending_s if oldest_pending_s is not None or outbox_depth == 0 else s.oldest_pending_s)
        client = self._client
        if client is not None and self._announce and self.connected:
            client.publish(self._topic("state"), self._kiosk_state.to_payload(), qos=1, retain=True)

    @property
    def dropped(self) -> int:
        """How many received messages were dropped as invalid."""
        return self._drops.dropped

    # ---- internals: paho thread ----------------------------------------------------------------

    def _topic(self, leaf: str) -> str:
        return topics.kiosk(self.building, self.kiosk_id, leaf)

    def _new_client(self) -> paho.Client:
        client_id = (f"kiosk-{self.building}-{self.kiosk_id}" if self._announce
                     else f"lobby-devices-{os.getpid()}-{uuid.uuid4().hex[:6]}")
        client = make_client(self.settings.broker, client_id, self._protocol)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        if self._announce:
            client.will_set(self._topic("availability"), "offline", qos=1, retain=True)
        return client

    def _run(self) -> None:
        name = f"devices-link-{self.building}"
        while not self._stop.is_set():
            client = self._client
            assert client is not None
            run_forever(client, self.settings.broker, self.settings.broker.keepalive_s, self._stop, name)
            if self._stop.is_set():
                break
            if self._fallback:
                log.warning("broker refused MQTT 5; falling back to MQTT 3.1.1")
                self._protocol, self._fallback = MQTTv311, False
            try:
                self._client = self._new_client()
            except DevicesError as err:
                log.error("%s: %s", name, err)
                time.sleep(5)

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("broker %s:%d refused the connection: %s", self.settings.broker.host,
                        self.settings.broker.port, reason_code)
            if self._protocol == MQTTv5 and reason_code.value in (1, 132):  # unsupported protocol version
                self._fallback = True
                client.disconnect()
            return
        root = topics.root(self.building)
        client.subscribe([(f"{root}/+/+/availability", 1), (f"{root}/+/+/state", 0),
                          (f"{root}/+/+/event", 1), (self._reply_topic, 1)])
        if self._announce:
            client.publish(self._topic("availability"), "online", qos=1, retain=True)
            client.publish(self._topic("state"), self._kiosk_state.to_payload(), qos=1, retain=True)
        with self._lock:
            self._ha_sent.clear()
        if self.settings.broker.home_assistant_discovery:
            for info in self.registry.snapshot():
                self._queue.put(("call", lambda info=info: self._publish_discovery(info)))
        self._connected.set()
        self._queue.put(("connection", True))
        log.info("connected to broker %s:%d as %s", self.settings.broker.host, self.settings.broker.port,
                 self.kiosk_id)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        if self._connected.is_set() and not self._stop.is_set():
            log.warning("lost the broker connection (%s); reconnecting", reason_code)
        if self._connected.is_set():
            self._connected.clear()
            self._queue.put(("connection", False))

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        self.ingest(msg.topic, msg.payload)

    def ingest(self, topic: str, payload: bytes) -> None:
        """Validate one received message and apply it; invalid ones are dropped with a warning."""
        self.received += 1
        parsed = topics.parse(topic, self.building)
        if parsed is None:
            self._drops.warning("topic", "dropped a message on an unexpected topic %.120s", topic)
            return
        try:
            if parsed.kind == topics.KIOSK:
                self._ingest_kiosk(parsed, payload)
                return
            module = kinds.get(parsed.kind)
            if module is None:
                raise MessageError("unknown kind")
            now = time.time()
            if len(self.registry) >= MAX_DEVICES and self.registry.get(parsed.kind, parsed.id) is None:
                raise MessageError(f"more than {MAX_DEVICES} devices: ignoring new ones")
            if parsed.leaf == "availability":
                changed = self.registry.set_availability(parsed.kind, parsed.id, messages.parse_availability(payload), now)
            elif parsed.leaf == "state":
                state = module.State.from_dict(messages.decode_json(payload)).to_dict()
                changed = self.registry.set_state(parsed.kind, parsed.id, state, now)
            elif parsed.leaf == "event":
                event = module.parse_event(messages.decode_json(payload))
                changed = self.registry.set_event(parsed.kind, parsed.id, event.to_dict(), now)
                if parsed.kind == kinds.health.KIND:
                    self._queue.put(("call", lambda: self._measure_event(parsed.id, event)))
            else:
                raise MessageError("not a topic devices publish on")
        except MessageError as err:
            self._drops.warning(f"{parsed.kind}/{parsed.leaf}", "dropped %s/%s message from %s: %s",
                                parsed.kind, parsed.leaf, parsed.id, err)
            return
        if changed is not None and (self._listeners or self.settings.broker.home_assistant_discovery):
            self._queue.put(("notify", changed))

    def _ingest_kiosk(self, parsed: topics.Topic, payload: bytes) -> None:
        now = time.time()
        if parsed.leaf == "reply":
            if parsed.id == self.kiosk_id:
                self._on_reply(Reply.from_payload(payload))
        elif parsed.leaf == "availability":
            self.registry.set_kiosk(parsed.id, now, availability=messages.parse_availability(payload))
        else:
            self.registry.set_kiosk(parsed.id, now, state=KioskState.from_payload(payload).to_dict())

    def _on_reply(self, reply: Reply) -> None:
        with self._lock:
            pending = self._pending.pop(reply.id, None)
        if pending is None:
            self._drops.warning("reply", "dropped a late or unknown reply %.40s", reply.id)
            return
        self._queue.put(("call", lambda: self._resolve(pending, reply)))

    # ---- internals: worker thread ----------------------------------------------------------------

    def _schedule(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run `fn` on the worker thread after `delay_s`. The worker is only woken when the new
        deadline is the earliest (rare: deadlines mostly grow), which keeps commands cheap."""
        with self._lock:
            heapq.heappush(self._timers, (time.monotonic() + delay_s, next(self._seq), fn))
            earliest = self._timers[0][2] is fn
        if earliest:
            self._queue.put(("wake",))

    def _work(self) -> None:
        while True:
            with self._lock:
                wait = max(0.0, self._timers[0][0] - time.monotonic()) if self._timers else None
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is not None:
                if item[0] == "notify":
                    self._notify(item[1])
                elif item[0] == "call":
                    item[1]()
                elif item[0] == "connection":
                    self._connection_changed(item[1])
            now = time.monotonic()
            due = []
            with self._lock:
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
            for fn in due:
                fn()

    def _notify(self, info: DeviceInfo) -> None:
        if self.settings.broker.home_assistant_discovery:
            self._publish_discovery(info)
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(info)
            except Exception:  # noqa: BLE001
                # A listener is the caller's code: its bug must not stop the link's notifications.
                log.exception("a device listener failed")

    def _connection_changed(self, connected: bool) -> None:
        with self._lock:
            listeners = list(self._conn_listeners)
        for fn in listeners:
            try:
                fn(connected)
            except Exception:  # noqa: BLE001
                # A listener is the caller's code: its bug must not stop the link's notifications.
                log.exception("a connection listener failed")

    def _publish_discovery(self, info: DeviceInfo) -> None:
        client = self._client
        key = (info.kind, info.id)
        with self._lock:
            if client is None or key in self._ha_sent or not self.connected:
                return
            self._ha_sent.add(key)
        for topic, payload in ha_discovery.messages(self.building, info.kind, info.id):
            client.publish(topic, payload, qos=1, retain=True)

    def _resolve(self, pending: _Pending, reply: Reply) -> None:
        if reply.ok:
            _succeed(pending.future, reply.result)
        else:
            _fail(pending.future, DeviceError(reply.code or "internal", reply.message))

    def _expire(self, cmd_id: str) -> None:
        with self._lock:
            pending = self._pending.pop(cmd_id, None)
        if pending is not None:
            _fail(pending.future, Timeout(f"{pending.kind} {pending.device_id} did not answer "
                                          f"{pending.op} within {pending.timeout_s:g} s"))

    def _offline_reason(self, kind: str, device_id: str) -> str | None:
        if not self.connected:
            return "the building broker is not reachable"
        info = self.registry.get(kind, device_id)
        if info is not None and info.availability == OFFLINE:
            return f"{kind} {device_id} is offline"
        return None

    def _drop_waiter(self, device_id: str, fut: Future) -> bool:
        with self._lock:
            waiters = self._measures.get(device_id, [])
            if fut in waiters:
                waiters.remove(fut)
                return True
        return False

    def _measure_expired(self, device_id: str, fut: Future) -> None:
        if self._drop_waiter(device_id, fut):
            _fail(fut, Timeout(f"health {device_id} gave no reading within {self._measure_timeout_s:g} s"))

    def _measure_event(self, device_id: str, event: messages.Event) -> None:
        with self._lock:
            waiters = self._measures.pop(device_id, [])
        for fut in waiters:
            if event.type == "reading":
                _succeed(fut, Reading.from_fields(event.fields))
            else:
                _fail(fut, DeviceError(event.fields.get("code", "internal"), "measurement failed"))


def _succeed(fut: Future, value: Any) -> None:
    try:
        fut.set_result(value)
    except InvalidStateError:
        pass  # cancelled by the caller: nothing to deliver


def _fail(fut: Future, err: BaseException) -> None:
    try:
        fut.set_exception(err)
    except InvalidStateError:
        pass  # cancelled by the caller


def _then(fut: Future, fn: Callable[[Any], Any]) -> Future:
    """A future of `fn(result)`; a MessageError from `fn` becomes DeviceError('internal')."""
    out: Future = Future()

    def done(f: Future) -> None:
        err = f.exception()
        if err is not None:
            _fail(out, err)
            return
        try:
            _succeed(out, fn(f.result()))
        except MessageError as bad:
            _fail(out, DeviceError("internal", f"invalid reply: {bad}"))

    fut.add_done_callback(done)
    return out
