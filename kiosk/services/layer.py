"""Services: what `app.services` is. Built from KioskConfig; subsystems come from factories."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.services import devices as devices_mod
from kiosk.services import requests as requests_mod
from kiosk.services import voice as voice_mod
from kiosk.services.pool import Pool, post
from kiosk.services.summary import write_summary
from sync.settings import devices_summary_path

log = logging.getLogger(__name__)
STATE_INTERVAL_S = 10.0


@dataclass(frozen=True)
class Availability:
    """What cannot be used now; each field is None (fine) or a strings key saying why."""

    voice: str | None = None
    devices: str | None = None
    network: str | None = None
    requests: str | None = None
    locker: str | None = None
    health: str | None = None

    @property
    def problems(self) -> list[str]:
        """The distinct reasons, for Home's notice."""
        seen: list[str] = []
        for key in (self.voice, self.devices, self.network, self.requests):
            if key and key not in seen:
                seen.append(key)
        return seen


def _version() -> str:
    try:
        from importlib.metadata import version  # noqa: PLC0415

        return version("lobby-kiosk")
    except Exception:  # not installed as a distribution (running from a checkout)
        return "0.1.0"


class Services:
    """The service layer. Factories are the seams: pass None to run without a subsystem.

    `link_factory(DevicesSettings)`, `outbox_factory(SyncSettings)`,
    `voice_factory(VoiceSettings)` default to the real subsystems.
    """

    def __init__(self, cfg: Any, *, link_factory: Callable | None = devices_mod.default_factory,
                 outbox_factory: Callable | None = requests_mod.default_factory,
                 voice_factory: Callable | None = voice_mod.default_factory,
                 state_interval_s: float = STATE_INTERVAL_S) -> None:
        self.cfg = cfg
        self._version: str | None = None  # read on the kiosk-state thread: a metadata scan takes ~0.1-0.2 s
        self.started_at = time.time()
        self._pool = Pool("kiosk-work", workers=3)
        self.devices = devices_mod.DevicesAccess(cfg.devices, link_factory)
        self.requests = requests_mod.RequestsAccess(cfg.sync, outbox_factory)
        self.voice = voice_mod.VoiceAccess(cfg.voice, voice_factory)
        self._listeners: list[Callable[[], None]] = []
        self._notify_lock = threading.Lock()
        self._device_seen: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._notify_pending = False
        self._state_interval_s = state_interval_s
        self._stop = threading.Event()
        self._state_thread: threading.Thread | None = None
        self.started = threading.Event()
        self.summary_error: str | None = None

    @property
    def version(self) -> str:
        """The installed lobby-kiosk version (looked up on the kiosk-state thread at start)."""
        if self._version is None:
            self._version = _version()
        return self._version

    @classmethod
    def offline(cls, cfg: Any) -> Services:
        """A service layer with no subsystem at all (screenshots: no network)."""
        return cls(cfg, link_factory=None, outbox_factory=None, voice_factory=None)

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start every subsystem; returns at once. The work (creating the voice service, the
        devices link, opening the outbox) happens on the subsystems' worker threads, never on the
        UI thread; failures become availability reasons. `started` is set when all were tried."""
        if self._state_thread is not None:
            return
        self.devices.add_listener(self._device_changed, ui_thread=False)
        self.devices.add_connection_listener(self._connection_changed, ui_thread=False)
        self.voice.add_listener(lambda _status: self._notify())
        self.requests.start()  # on kiosk-outbox
        self.voice.start()  # on kiosk-voice
        self._state_thread = threading.Thread(target=self._state_loop, name="kiosk-state", daemon=True)
        self._state_thread.start()  # starts the devices link first

    def wait_started(self, timeout: float | None = None) -> bool:
        """Block until every subsystem was tried (for tests and benchmarks, never the UI thread)."""
        return self.started.wait(timeout)

    def stop(self) -> None:
        """Stop every subsystem (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.voice.stop()
        self.devices.stop()
        self.requests.stop()
        self._pool.shutdown()

    # -- conventions' API ----------------------------------------------------------------
    def run(self, fn: Callable[..., Any], *args: Any, on_done: Callable | None = None,
            on_error: Callable | None = None):
        """Run fn(*args) on a worker thread; callbacks on the UI thread."""
        return self._pool.run(fn, *args, on_done=on_done, on_error=on_error)

    def availability(self) -> Availability:
        """What is unavailable now, with reasons (strings keys)."""
        vs = self.voice.status()
        voice = None if vs.state == "ready" else ("common.voice_loading" if vs.state == "loading" else "common.unavail_voice")
        devices = self.devices.why_unavailable("door") if self.devices.link is None or not self.devices.connected else None
        return Availability(
            voice=voice,
            devices=devices,
            network=self.requests.why_network(),
            requests=None if self.requests.available or self.requests.reason == "not started" else "common.unavail_requests",
            locker=self.devices.why_unavailable("locker"),
            health=self.devices.why_unavailable("health"),
        )

    def add_listener(self, fn: Callable[[], None]) -> None:
        """fn() on the UI thread whenever availability, notices or outbox health may have changed."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _device_changed(self, info: Any) -> None:
        """On the link's thread: only a change of availability or fault matters to availability()
        (a flood of state updates must not make every screen refresh)."""
        key = (info.kind, info.id)
        seen = (info.availability, info.fault, self.devices.connected)
        if self._device_seen.get(key) != seen:
            self._device_seen[key] = seen
            self._notify()

    def _notify(self) -> None:
        """Tell listeners once per frame at most, however many changes arrive (an MQTT flood)."""
        with self._notify_lock:
            if self._notify_pending:
                return
            self._notify_pending = True
        post(self._fire)

    def _connection_changed(self, _connected: bool) -> None:
        """On the link's thread: the broker came or went; availability() changes at once."""
        self._notify()

    def _fire(self) -> None:
        with self._notify_lock:
            self._notify_pending = False
        for fn in list(self._listeners):
            fn()

    def uptime_s(self) -> float:
        return time.time() - self.started_at

    def free_disk_mb(self) -> float | None:
        """Free space where the state lives (MB), None when unknown."""
        try:
            return shutil.disk_usage(self.cfg.state_dir).free / 1e6
        except OSError:
            return None

    # -- the state loop: kiosk state on MQTT, summary for the sync agent ---------------------
    def refresh_state(self) -> None:
        """One round: outbox health and notices, kiosk state publish, device summary file."""
        health = None
        if self.requests.available or self.requests.reason == "not started":
            try:
                health, _notices = self.requests.refresh_now()
            except Exception as err:  # reported through availability(); the loop must go on
                log.debug("outbox refresh failed: %s", err)
        voice_ready = self.voice.ready()
        try:
            self.devices.publish_kiosk_state(
                voice_ready=voice_ready,
                outbox_depth=getattr(health, "depth", 0) or 0,
                oldest_pending_s=getattr(health, "oldest_pending_s", None),
            )
        except Exception as err:  # broker down: the link reconnects by itself
            log.debug("kiosk state not published: %s", err)
        try:
            write_summary(devices_summary_path(self.cfg.sync), self.devices.snapshot(), voice_ready=voice_ready,
                          broker_connected=self.devices.connected, version=self.version)
            self.summary_error = None
        except OSError as err:
            if self.summary_error is None:
                log.warning("cannot write the device summary in %s: %s", self.cfg.state_dir, err)
            self.summary_error = str(err)
        self._notify()

    def _state_loop(self) -> None:
        self._version = self._version or _version()
        self.devices.start()
        self.voice.wait_started(10)
        self.requests.wait_started(10)
        self.started.set()
        self._notify()
        while not self._stop.is_set():
            try:
                self.refresh_state()
            except Exception as err:  # this loop is the kiosk's heartbeat; it must not die
                log.warning("state refresh failed: %s", err)
            self._stop.wait(self._state_interval_s)
