"""The kiosk's side of sync/: the durable outbox (requests, notices, ratings, link health).

All outbox work runs on one named thread ("kiosk-outbox"), in order; results
come back on the UI thread. The outbox is a local SQLite file, so submitting
works while the central service is unreachable: the sync agent sends later.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.services.errors import Unavailable
from kiosk.services.pool import Pool

log = logging.getLogger(__name__)
Callback = Callable[[Any], None] | None
AGENT_STALE_S = 180.0  # the sync agent has not touched the outbox for this long: say so


def default_factory(settings: Any):
    from sync.outbox import Outbox  # noqa: PLC0415 - optional subsystem

    return Outbox.open(settings)


class RequestsAccess:
    """Requests and notices through sync.outbox.Outbox."""

    def __init__(self, settings: Any, factory: Callable[[Any], Any] | None = default_factory,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._factory = factory
        self._clock = clock
        self._pool = Pool("kiosk-outbox", workers=1)
        self._outbox: Any = None
        self._lock = threading.Lock()
        self.reason = "not started"
        self._stopped = False
        self.last_health: Any = None
        self.last_notices: list[Any] = []
        self._opening: concurrent.futures.Future | None = None

    def start(self) -> None:
        """Open the outbox on the outbox thread (returns at once)."""
        self._opening = self._pool.run(self._open)

    def wait_started(self, timeout: float | None = None) -> bool:
        """Block until opening the outbox was tried (worker threads only)."""
        opening = self._opening
        if opening is None:
            return False
        concurrent.futures.wait([opening], timeout)
        return opening.done()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True

        def close() -> None:
            if self._outbox is not None:
                self._outbox.close()
                self._outbox = None

        self._pool.run(close)
        self._pool.shutdown()

    def _open(self) -> Any:
        with self._lock:
            if self._outbox is None:
                if self._factory is None:
                    self.reason = "outbox disabled"
                    raise Unavailable("common.unavail_requests", self.reason)
                try:
                    self._outbox = self._factory(self.settings)
                    self.reason = ""
                except ImportError as err:
                    self.reason = f"sync module not available ({err.name})"
                    log.warning("requests unavailable: %s", self.reason)
                    raise Unavailable("common.unavail_requests", self.reason) from None
                except Exception as err:  # disk full, permissions, corrupt file: shown, not raised
                    self.reason = f"outbox cannot be opened: {type(err).__name__}: {err}"
                    log.warning("requests unavailable: %s", self.reason)
                    raise Unavailable("common.unavail_requests", self.reason) from None
            return self._outbox

    def _do(self, fn: Callable[[Any], Any], on_done: Callback, on_error: Callback) -> None:
        self._pool.run(lambda: fn(self._open()), on_done=on_done, on_error=on_error)

    @property
    def available(self) -> bool:
        return self._outbox is not None

    # -- the conventions' API ----------------------------------------------------------------
    def submit(self, body: dict[str, Any], on_done: Callback, on_error: Callback,
               health_consent: bool = False) -> None:
        """Store a request durably: on_done(Enqueued(id, local_ticket)); InvalidRequest on bad input."""
        self._do(lambda ob: ob.enqueue(body, health_consent=health_consent), on_done, on_error)

    def find(self, room: str | None = None, ticket: str | None = None, on_done: Callback = None,
             on_error: Callback = None) -> None:
        """on_done(list[RequestView]) newest first, by room or ticket."""
        self._do(lambda ob: ob.find(room=room, ticket=ticket), on_done, on_error)

    def get(self, request_id: str, on_done: Callback, on_error: Callback = None) -> None:
        """on_done(RequestView or None)."""
        self._do(lambda ob: ob.request(request_id), on_done, on_error)

    def rate(self, request_id: str, stars: int, on_done: Callback = None, on_error: Callback = None,
             comment: str | None = None) -> None:
        self._do(lambda ob: ob.rate(request_id, stars, comment), on_done, on_error)

    def notices(self, on_done: Callback, on_error: Callback = None) -> None:
        """on_done(list[Notice]) active now, high priority first."""

        def read(ob: Any) -> list[Any]:
            self.last_notices = list(ob.notices())
            return self.last_notices

        self._do(read, on_done, on_error)

    def health(self, on_done: Callback, on_error: Callback = None) -> None:
        """on_done(OutboxHealth)."""

        def read(ob: Any) -> Any:
            self.last_health = ob.health()
            return self.last_health

        self._do(read, on_done, on_error)

    def rejected(self, on_done: Callback, on_error: Callback = None) -> None:
        """on_done(list[RequestView]) the central service refused (technicians)."""
        self._do(lambda ob: ob.rejected(), on_done, on_error)

    def refresh_now(self) -> tuple[Any, list[Any]]:
        """Read health and notices; call on a worker (the state loop does)."""
        ob = self._open()
        self.last_health = ob.health()
        self.last_notices = list(ob.notices())
        return self.last_health, self.last_notices

    def network_ok(self) -> bool:
        """False when the last contact with the central service failed (requests still queue)."""
        return self.why_network() is None

    def why_network(self) -> str | None:
        """None when the central service answered last time, else a strings key."""
        h = self.last_health
        if h is None:
            return None
        now = self._clock()
        seen = getattr(h, "agent_seen", None)
        if seen is not None and now - seen > AGENT_STALE_S:
            return "common.unavail_agent"
        err_at = getattr(h, "last_error_at", None)
        ok_at = getattr(h, "last_success", None)
        if h.last_error and (ok_at is None or (err_at is not None and err_at > ok_at)):
            return "common.unavail_network"
        return None
