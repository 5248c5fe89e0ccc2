"""The sync agent (`lobby-sync run`): delivers the outbox to the central service and pulls updates back.

One thread, one link, one retry policy: every call to the central goes
through `_call`; any failure backs the whole link off (exponential, full
jitter, capped; Retry-After honoured); a 401 stops sending and raises an
alarm until the token file changes. Rows are claimed (`sending`), sent with
their uuid as Idempotency-Key, and settled by the answer: 200/201 delivered,
400/422 rejected, anything else back to pending. See docs/sync.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import random
import threading
import time
from importlib import metadata
from urllib.parse import quote

from sync.answers import accepted, error_text, parse_updates, rejection, retry_after
from sync.errors import (
    AgentAlreadyRunning,
    BadResponse,
    Busy,
    CentralError,
    ServerError,
    SyncError,
    Unauthorized,
)
from sync.http import CentralClient, Response
from sync.outbox import Claimed, Outbox
from sync.records import STATUSES, now_rfc3339
from sync.settings import SyncSettings, devices_summary_path
from sync.summary import DeviceSummary

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0
BOOKKEEP_EVERY_S = 1.0
BATCH_OFF_S = 600.0
MAX_RETRY_AFTER_S = 3600.0
MAX_PULL_PAGES = 20


class Agent:
    """Delivers queued requests and ratings, pulls updates and notices, sends heartbeats."""

    def __init__(self, settings: SyncSettings, outbox: Outbox | None = None, client: CentralClient | None = None,
                 rng: random.Random | None = None) -> None:
        """No I/O here. `outbox` and `client` are seams for tests and tools (default: from settings)."""
        self.settings = settings
        self.outbox = outbox
        self.client = client
        self._own_outbox = outbox is None
        self._rng = rng or random.Random()
        self._failures = 0
        self._not_before = 0.0
        self._next_pull = 0.0
        self._next_heartbeat = 0.0
        self._next_prune = 0.0
        self._batch_off_until = 0.0
        self._claimed: list[str] = []
        self._urgent_seen = 0.0
        self._server_said_wait = False
        self._unauthorized = False
        self._token_sig: str | None = None
        self._probe_at = 0.0
        self._last_bookkeep = 0.0
        self._success_unrecorded = False
        self._summary = DeviceSummary(devices_summary_path(settings))
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock_fd: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the agent's own named thread; returns at once."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(self._stop,), name="sync-agent", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, stop: threading.Event) -> None:
        """The agent's loop, on the calling thread, until `stop` is set."""
        self._take_lock()
        try:
            if self.outbox is None:
                self.outbox = Outbox.open(self.settings)
            if self.client is None:
                self._token_sig, token = self._read_token()
                self.client = CentralClient.from_settings(self.settings.central, token)
            recovered = self.outbox.recover()
            log.info("sync agent started: kiosk %s -> %s (%d pending%s)", self.settings.kiosk_id,
                     self.settings.central.url, self.outbox.health().depth,
                     f", {recovered} recovered from sending" if recovered else "")
            while not stop.is_set():
                try:
                    busy = self.step()
                    if not busy:
                        self.outbox.checkpoint()  # idle: the agent, not a resident's enqueue, pays for it
                except SyncError as err:  # the outbox failed (disk full, locked): wait, then try again
                    log.error("sync agent: %s", err)
                    busy = False
                    stop.wait(min(5.0, self.settings.central.backoff_cap_s))
                except Exception:  # the link's one catch-all: a bug must not end deliveries for good
                    log.exception("sync agent: unexpected error; carrying on")
                    busy = False
                    stop.wait(min(5.0, self.settings.central.backoff_cap_s))
                if not busy:
                    stop.wait(self.settings.central.poll_interval_s)
            log.info("sync agent stopped")
        finally:
            if self.client is not None:
                self.client.close()
            if self._own_outbox and self.outbox is not None:
                self.outbox.close()
                self.outbox = None
            self._release_lock()

    def _take_lock(self) -> None:
        path = os.path.join(self.settings.state_dir, "sync-agent.lock")
        try:
            os.makedirs(self.settings.state_dir, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise SyncError(f"cannot use state directory {self.settings.state_dir}: {err.strerror}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AgentAlreadyRunning(f"another sync agent runs on {self.settings.state_dir}") from None
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- one round ----------------------------------------------------------------------

    def step(self) -> bool:
        """Do what is due now; True when there may be more work at once."""
        assert self.outbox is not None
        now = time.monotonic()
        worked = False
        if self._unauthorized and not self._may_retry_auth(now):
            self._bookkeep(now)
            return False
        if now < self._not_before and not self._server_said_wait and self._new_urgent():
            log.info("urgent request queued: trying the central now, despite the backoff")
            self._not_before = now
        if now >= self._not_before:
            try:
                worked = self._send_some()
                worked = self._send_ratings() or worked
                if now >= self._next_pull:
                    self._pull()
                    self._next_pull = time.monotonic() + self.settings.central.pull_interval_s
                if now >= self._next_heartbeat:
                    self._heartbeat()
                    self._next_heartbeat = time.monotonic() + self.settings.central.heartbeat_interval_s
            except Unauthorized as err:
                self._on_unauthorized(err)
                worked = False
            except Busy as err:
                self._fail(err, err.retry_after_s)
                worked = False
            except CentralError as err:
                self._fail(err)
                worked = False
        if now >= self._next_prune:
            self.outbox.prune()
            self._next_prune = now + PRUNE_EVERY_S
        self._bookkeep(now)
        return worked

    def _new_urgent(self) -> bool:
        """True once for each urgent request queued since the last look (it skips the backoff once)."""
        assert self.outbox is not None
        newest = self.outbox.newest_urgent()
        if newest > self._urgent_seen:
            self._urgent_seen = newest
            return True
        return False

    def _succeeded(self) -> None:
        if self._failures:
            assert self.outbox is not None
            log.info("central reachable again after %d failed attempts", self._failures)
            self.outbox.retry_now()
        self._failures = 0
        self._success_unrecorded = True
        if self._unauthorized:
            self._unauthorized = False
            assert self.outbox is not None
            self.outbox.record(alarm=None)
            log.info("central accepts the kiosk token again: alarm cleared")

    def _bookkeep(self, now: float) -> None:
        """Tell `lobby-sync status` the agent is alive and when it last succeeded (at most once a second)."""
        if now - self._last_bookkeep >= BOOKKEEP_EVERY_S:
            assert self.outbox is not None
            self.outbox.record(success=self._success_unrecorded, seen=True)
            self._success_unrecorded = False
            self._last_bookkeep = now

    def _fail(self, err: CentralError, retry_after: float | None = None) -> None:
        """Back the link off: full jitter, capped; Retry-After wins when longer."""
        assert self.outbox is not None
        cs = self.settings.central
        self._failures += 1
        delay = self._rng.uniform(0, min(cs.backoff_cap_s, cs.backoff_base_s * 2 ** min(self._failures - 1, 30)))
        self._server_said_wait = retry_after is not None
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
        self._not_before = time.monotonic() + delay
        message = str(err)
        if self._claimed:
            self.outbox.mark_retry(self._claimed, message, time.time() + delay)
            self._claimed = []
        self.outbox.record(error=message)
        log.warning("central call failed: %s; next try in %.2f s (failure %d)", message, delay, self._failures)

    def _on_unauthorized(self, err: Unauthorized) -> None:
        """Stop sending, raise the technicians' alarm, probe again only rarely or when the token changes."""
        assert self.outbox is not None
        if self._claimed:
            self.outbox.mark_retry(self._claimed, str(err), time.time())
            self._claimed = []
        self._probe_at = time.monotonic() + self.settings.central.backoff_cap_s
        if not self._unauthorized:
            self._unauthorized = True
            alarm = "central refused the kiosk token (401): nothing is sent until central.token_file is fixed"
            self.outbox.record(error=str(err), alarm=alarm)
            log.error("%s", alarm)

    def _may_retry_auth(self, now: float) -> bool:
        sig, token = self._read_token()
        if sig != self._token_sig:
            log.info("kiosk token file changed: trying the central again")
            self._token_sig = sig
            if self.client is not None:
                self.client.token = token
            self._not_before = 0.0
            return True
        return now >= self._probe_at

    def _read_token(self) -> tuple[str | None, str | None]:
        try:
            token = self.settings.central.token()
        except OSError as err:
            log.error("cannot read the kiosk token file: %s", err.strerror)
            return None, None
        return (hashlib.sha256(token.encode()).hexdigest() if token is not None else None), token

    # -- calls --------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> Response:
        """One call; raises Unauthorized, Busy, ServerError for the statuses every endpoint shares."""
        assert self.client is not None
        resp = self.client.request(method, path, body, headers)
        if resp.status == 401:
            raise Unauthorized(f"{method} {path.split('?')[0]}: HTTP 401")
        if resp.status in (429, 503):
            raise Busy(resp.status, retry_after(resp.headers.get("retry-after")))
        if resp.status >= 500:
            raise ServerError(resp.status, f"{method} {path.split('?')[0]}: {error_text(resp)}")
        self._succeeded()  # any proper answer ends a failure streak
        return resp

    def _send_some(self) -> bool:
        assert self.outbox is not None
        cs = self.settings.central
        due = self.outbox.due_count(cs.batch_threshold)
        if not due:
            return False
        batch = due >= cs.batch_threshold and time.monotonic() >= self._batch_off_until
        rows = self.outbox.claim(cs.batch_size if batch else 1)
        if not rows:
            return False
        self._claimed = [r.id for r in rows]
        if batch:
            self._send_batch(rows)
        else:
            self._send_one(rows[0])
        self._claimed = []
        return True

    def _send_one(self, row: Claimed) -> None:
        assert self.outbox is not None
        resp = self._call("POST", "/v1/requests", row.body.encode(), {"Idempotency-Key": row.id})
        if resp.status in (200, 201):
            ticket, status = accepted(resp.body, row.id)
            self.outbox.mark_delivered(row.id, ticket, status)
            log.info("request %s delivered (ticket %s, HTTP %d)", row.id, ticket, resp.status)
        elif resp.status in (400, 422):
            err = rejection(resp)
            self.outbox.mark_rejected(row.id, str(err))
            log.warning("request %s rejected by the central: %s", row.id, err)
        else:
            raise ServerError(resp.status, f"POST /v1/requests: unexpected answer ({error_text(resp)})")

    def _send_batch(self, rows: list[Claimed]) -> None:
        assert self.outbox is not None
        body = b'{"requests":[' + b",".join(r.body.encode() for r in rows) + b"]}"
        resp = self._call("POST", "/v1/requests:batch", body)
        if resp.status in (400, 404, 405, 413):
            # The central cannot take this batch: send these one at a time for a while.
            self._batch_off_until = time.monotonic() + BATCH_OFF_S
            self.outbox.mark_retry(self._claimed, f"batch refused with HTTP {resp.status}", 0)
            log.warning("batch refused with HTTP %d: sending one at a time for %.0f s", resp.status, BATCH_OFF_S)
            return
        if resp.status != 200:
            raise ServerError(resp.status, f"POST /v1/requests:batch: unexpected answer ({error_text(resp)})")
        results = resp.body.get("results") if isinstance(resp.body, dict) else None
        if not isinstance(results, list) or len(results) != len(rows):
            raise BadResponse("POST /v1/requests:batch: results do not match the requests sent")
        delivered, rejected, retry = [], [], []
        for row, result in zip(rows, results, strict=True):
            if not isinstance(result, dict) or result.get("id") != row.id:
                raise BadResponse("POST /v1/requests:batch: results out of order")
            status = result.get("status")
            if status in (200, 201):
                ticket, _ = accepted(result, row.id)
                status = result.get("request_status")
                delivered.append((row.id, ticket, status if status in STATUSES else "pending"))
            elif status in (400, 422):
                rejected.append((row.id, str(rejection(Response(status, {}, result)))))
            else:
                retry.append(row.id)
        self.outbox.settle(delivered, rejected)
        if retry:
            self.outbox.mark_retry(retry, "batch result without a status we know", time.time())
        for rid, error in rejected:
            log.warning("request %s rejected by the central: %s", rid, error)
        log.info("batch of %d: %d delivered, %d rejected, %d to retry", len(rows), len(delivered),
                 len(rejected), len(retry))

    def _send_ratings(self) -> bool:
        assert self.outbox is not None
        due = self.outbox.due_ratings()
        for r in due:
            body = json.dumps({"stars": r.stars, "comment": r.comment}, ensure_ascii=False).encode()
            resp = self._call("POST", f"/v1/requests/{r.id}/rating", body)
            if 200 <= resp.status < 300:
                self.outbox.mark_rating(r, "sent")
            elif resp.status in (400, 404, 422):
                self.outbox.mark_rating(r, "rejected")
                log.warning("rating of request %s refused: HTTP %d %s", r.id, resp.status, error_text(resp))
            else:
                raise ServerError(resp.status, f"rating: unexpected answer ({error_text(resp)})")
        return bool(due)

    def _pull(self) -> None:
        """Fetch updates after the stored cursor; write them and the new cursor in one transaction."""
        assert self.outbox is not None
        cursor = self.outbox.cursor()
        for _ in range(MAX_PULL_PAGES):
            path = f"/v1/kiosks/{self.settings.kiosk_id}/updates" + (f"?cursor={quote(cursor)}" if cursor else "")
            resp = self._call("GET", path)
            if resp.status != 200:
                raise ServerError(resp.status, f"GET updates: unexpected answer ({error_text(resp)})")
            new_cursor, updates, notices = parse_updates(resp.body)
            if not updates and not notices and new_cursor == cursor:
                return
            changed = self.outbox.apply_updates(updates, notices, new_cursor)
            for u in updates:
                log.info("request %s is now %s", u.id, u.status)
            if notices:
                log.info("%d notices received", len(notices))
            log.debug("cursor %s -> %s (%d rows changed)", cursor, new_cursor, changed)
            if new_cursor == cursor:
                return
            cursor = new_cursor

    def _heartbeat(self) -> None:
        assert self.outbox is not None
        h = self.outbox.health()
        body = {"version": _version(), "outbox_depth": h.depth, "oldest_pending_s": h.oldest_pending_s,
                "devices": self._summary.devices(), "ts": now_rfc3339()}
        resp = self._call("POST", f"/v1/kiosks/{self.settings.kiosk_id}/heartbeat",
                          json.dumps(body, ensure_ascii=False).encode())
        if not 200 <= resp.status < 300:
            log.warning("heartbeat refused: HTTP %d %s", resp.status, error_text(resp))



_VERSION: list[str] = []


def _version() -> str:
    if not _VERSION:
        try:
            _VERSION.append(metadata.version("lobby-kiosk"))
        except metadata.PackageNotFoundError:
            _VERSION.append("0.0.0")
    return _VERSION[0]
