"""The kiosk's side of devices/: the building link, device list, commands with UI callbacks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from kiosk.services.errors import Unavailable
from kiosk.services.pool import follow, post, post_later

log = logging.getLogger(__name__)
Callback = Callable[[Any], None] | None
UI_BATCH_S = 0.1  # device changes reach UI listeners at most this often (an MQTT flood is one refresh)


def default_factory(settings: Any):
    from devices.link import BuildingLink  # noqa: PLC0415 - optional subsystem

    return BuildingLink(settings)


class DevicesAccess:
    """Wraps devices.link.BuildingLink; results and device changes come back on the UI thread."""

    def __init__(self, settings: Any, factory: Callable[[Any], Any] | None = default_factory) -> None:
        self.settings = settings
        self._factory = factory
        self.link: Any = None
        self.reason = "not started"
        self._listeners: list[Callable[[Any], None]] = []
        self._raw_listeners: list[Callable[[Any], None]] = []
        self._conn_listeners: list[Callable[[bool], None]] = []
        self._raw_conn_listeners: list[Callable[[bool], None]] = []
        self._life = threading.Lock()  # start() and stop() do not overlap
        self._stopped = False
        self._batch_lock = threading.Lock()
        self._batch: dict[tuple[str, str], Any] = {}  # device changes waiting for the UI
        if factory is None:
            self.reason = "devices disabled"

    def start(self) -> None:
        """Create and start the link (its own network thread; it reconnects forever). Call on a
        worker: creating the link reads the pick-up guard's file."""
        if self._factory is None:
            return
        with self._life:
            if self._stopped:
                return
            self._start_locked()

    def _start_locked(self) -> None:
        try:
            link = self._factory(self.settings)
            link.add_listener(self._changed)
            link.add_connection_listener(self._connection_changed)
            link.pickup_lockout_remaining()  # reads the guard's file here, not on the UI thread later
            self.link = link
            link.start()
            self.reason = ""
        except ImportError as err:
            self.link = None
            self.reason = f"devices module not available ({err.name})"
            log.warning("devices unavailable: %s", self.reason)
        except Exception as err:  # an optional subsystem failing must not stop the kiosk
            self.link = None
            self.reason = f"devices link failed to start: {type(err).__name__}: {err}"
            log.warning("devices unavailable: %s", self.reason)

    def stop(self) -> None:
        with self._life:
            self._stopped = True
        if self.link is not None:
            try:
                self.link.stop()
            except Exception as err:  # shutting down: report, never raise
                log.warning("devices link stop failed: %s", err)

    # -- state --------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return bool(self.link is not None and self.link.connected)

    def snapshot(self) -> list[Any]:
        """Every known device (DeviceInfo), empty without a link."""
        if self.link is None:
            return []
        return list(self.link.registry.snapshot())

    def online(self, kind: str) -> list[Any]:
        return [d for d in self.snapshot() if d.kind == kind and d.availability == "online"]

    def available(self, kind: str) -> bool:
        """True when the broker is connected and some device of `kind` is online."""
        return self.connected and bool(self.online(kind))

    def why_unavailable(self, kind: str) -> str | None:
        """None when `kind` can be used, else a strings key saying why."""
        if self.link is None:
            return "common.unavail_devices"
        if not self.link.connected:
            return "common.unavail_broker"
        if not self.online(kind):
            return f"common.unavail_{kind}"
        return None

    def add_listener(self, fn: Callable[[Any], None], ui_thread: bool = True) -> None:
        """fn(DeviceInfo) on the UI thread when a device changes: at most once per device every
        0.1 s, with its latest state (an MQTT flood costs the UI one call per device, not one per
        message). With ui_thread=False: on the link's thread for every change (fn must then be
        quick and thread-safe)."""
        (self._listeners if ui_thread else self._raw_listeners).append(fn)

    def remove_listener(self, fn: Callable[[Any], None]) -> None:
        for group in (self._listeners, self._raw_listeners):
            if fn in group:
                group.remove(fn)

    def add_connection_listener(self, fn: Callable[[bool], None], ui_thread: bool = True) -> None:
        """fn(connected) on the UI thread when the broker connection drops or comes back (on the
        link's thread if ui_thread is False)."""
        (self._conn_listeners if ui_thread else self._raw_conn_listeners).append(fn)

    def remove_connection_listener(self, fn: Callable[[bool], None]) -> None:
        for group in (self._conn_listeners, self._raw_conn_listeners):
            if fn in group:
                group.remove(fn)

    def _changed(self, info: Any) -> None:
        for fn in list(self._raw_listeners):
            fn(info)
        if not self._listeners:
            return
        with self._batch_lock:
            first = not self._batch
            self._batch[(info.kind, info.id)] = info
        if first:
            post_later(UI_BATCH_S, self._deliver)

    def _deliver(self) -> None:
        """On the UI thread: each changed device once, in its latest state."""
        with self._batch_lock:
            batch, self._batch = list(self._batch.values()), {}
        for info in batch:
            for fn in list(self._listeners):
                fn(info)

    def _connection_changed(self, connected: bool) -> None:
        for fn in list(self._raw_conn_listeners):
            fn(connected)
        for fn in list(self._conn_listeners):
            post(fn, connected)

    # -- commands -------------------------------------------------------------------------
    def _call(self, what: str, start: Callable[[], Future], on_done: Callback, on_error: Callback) -> None:
        if self.link is None:
            post(on_error, Unavailable("common.unavail_devices", self.reason))
            return
        try:
            future = start()
        except Exception as err:  # InvalidCode/PickupLocked are raised at once by the link
            post(on_error, err)
            return
        follow(future, on_done, on_error, what=what)

    def pickup(self, code: str, on_done: Callback, on_error: Callback) -> None:
        """Open the compartment for a pickup code: on_done({"locker", "compartment"})."""
        self._call("pickup", lambda: self.link.pickup(code), on_done, on_error)

    def lockout_remaining(self) -> float:
        """Seconds left of a pickup lock-out after repeated wrong codes (0 when none)."""
        return float(self.link.pickup_lockout_remaining()) if self.link is not None else 0.0

    def measure(self, on_done: Callback, on_error: Callback) -> None:
        """Blood pressure on the first online health station: on_done(Reading)."""
        stations = self.online("health")
        if self.link is not None and not stations:
            post(on_error, Unavailable("common.unavail_health"))
            return
        self._call("measure", lambda: self.link.health(stations[0].id).measure(), on_done, on_error)

    def unlock(self, door_id: str, on_done: Callback = None, on_error: Callback = None,
               seconds: int = 5, force: bool = False) -> None:
        self._call("unlock", lambda: self.link.door(door_id).unlock(seconds, force=force), on_done, on_error)

    def open_compartment(self, locker_id: str, compartment: str, on_done: Callback = None,
                         on_error: Callback = None, force: bool = False) -> None:
        self._call("open", lambda: self.link.locker(locker_id).open(compartment, force=force), on_done, on_error)

    def publish_kiosk_state(self, **state: Any) -> None:
        """Publish the kiosk's state (retained) on the building broker; worker thread only."""
        if self.link is not None:
            self.link.publish_kiosk_state(**state)
