"""The kiosk's side of devices/: the building link, device list, commands with UI callbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from kiosk.services.errors import Unavailable
from kiosk.services.pool import follow, post

log = logging.getLogger(__name__)
Callback = Callable[[Any], None] | None


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

    def start(self) -> None:
        """Start the link's own network thread (returns at once; it reconnects forever)."""
        if self._factory is None:
            self.reason = "devices disabled"
            return
        try:
            self.link = self._factory(self.settings)
            self.link.add_listener(self._changed)
            self.link.start()
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
        """fn(DeviceInfo) on the UI thread whenever a device changes (on the link's thread if
        ui_thread is False: fn must then be quick and thread-safe)."""
        (self._listeners if ui_thread else self._raw_listeners).append(fn)

    def remove_listener(self, fn: Callable[[Any], None]) -> None:
        for group in (self._listeners, self._raw_listeners):
            if fn in group:
                group.remove(fn)

    def _changed(self, info: Any) -> None:
        for fn in list(self._raw_listeners):
            fn(info)
        for fn in list(self._listeners):
            post(fn, info)

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
