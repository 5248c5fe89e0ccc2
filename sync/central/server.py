"""HTTP front of the reference central: the contract's endpoints, the staff API and page, faults.

ThreadingHTTPServer speaking HTTP/1.1 with keep-alive, JSON bodies of at
most 1 MB, bearer tokens (kiosk tokens for `/v1`, a staff token for
`/staff/v1` and, through a cookie, the `/staff` page).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sync.central import page
from sync.central.faults import FaultDice, Faults
from sync.central.store import CentralStore, Conflict, error
from sync.errors import InvalidRequest
from sync.records import KIOSK_ID, canonical_json, parse_rfc3339

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
MAX_BATCH = 100
HUGE_BYTES = 10 * 1024 * 1024
COOKIE = "staff_token"

_REQUEST = re.compile(r"^/v1/requests/([0-9a-f-]{36})$")
_RATING = re.compile(r"^/v1/requests/([0-9a-f-]{36})/rating$")
_UPDATES = re.compile(r"^/v1/kiosks/([a-z0-9][a-z0-9-]{0,31})/updates$")
_HEARTBEAT = re.compile(r"^/v1/kiosks/([a-z0-9][a-z0-9-]{0,31})/heartbeat$")
_STAFF_STATUS = re.compile(r"^/staff(?:/v1)?/requests/([0-9a-f-]{36})/status$")


class HttpError(Exception):
    """An answer other than success, raised anywhere in a handler."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers or {}


class CentralServer(ThreadingHTTPServer):
    """The reference central: store, tokens and faults shared by every handler thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: CentralStore, kiosk_tokens: list[str], staff_token: str,
                 faults: Faults | None = None, seed: int | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(address, Handler)
        self.store = store
        self.kiosk_tokens = kiosk_tokens
        self.staff_token = staff_token
        self.dice = FaultDice(faults or Faults(), seed)
        self.stopping = threading.Event()
        self.tls = ssl_context is not None
        if ssl_context is not None:
            # handshake lazily, in the handler thread, so a silent client cannot stall accept()
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()


class Handler(BaseHTTPRequestHandler):
    """One connection; several requests on it (keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "lobby-central/1"
    timeout = 60  # an idle or silent connection is closed after a minute
    server: CentralServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self._raw: bytes | None = None
        try:
            if url.path.startswith("/v1/"):
                self._contract(method, url.path, query)
            elif url.path.startswith("/staff/v1/"):
                self._auth(self.server.staff_token and [self.server.staff_token])
                self._send_json(*self._staff_api(method, url.path, query))
            elif url.path in ("/", "/staff") or url.path.startswith("/staff/"):
                self._staff_page(method, url.path)
            else:
                raise HttpError(404, "not_found", "no such endpoint")
        except HttpError as err:
            self._send_json(err.status, error(err.code, err.message, err.field), err.headers)
        except InvalidRequest as err:
            self._send_json(400, error("invalid", err.message, err.field))
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        except Exception:  # the reference server's one catch-all: answer 500, keep serving others
            log.exception("internal error on %s %s", method, url.path)
            self._send_json(500, error("internal", "internal server error"))

    # -- the contract ----------------------------------------------------------------------

    def _contract(self, method: str, path: str, query: dict[str, str]) -> None:
        body = self._read_json() if method == "POST" else None  # read first: keep-alive stays in sync
        if self._inject_before():
            return
        try:
            self._auth(self.server.kiosk_tokens)
        except HttpError:
            self.server.store.count("unauthorized")
            raise
        store = self.server.store
        if method == "POST" and path == "/v1/requests":
            status, answer = store.submit(body, self.headers.get("Idempotency-Key"))
        elif method == "POST" and path == "/v1/requests:batch":
            items = body.get("requests") if isinstance(body, dict) else None
            if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
                raise HttpError(400, "invalid", f"expected 1..{MAX_BATCH} requests", "requests")
            status, answer = 200, {"results": store.submit_batch(items)}
        elif method == "GET" and path == "/v1/requests":
            status, answer = 200, self._list(query)
        elif method == "GET" and (m := _REQUEST.match(path)):
            found = store.get(m.group(1))
            if found is None:
                raise HttpError(404, "not_found", "no such request")
            status, answer = 200, found
        elif method == "POST" and (m := _RATING.match(path)):
            if not isinstance(body, dict):
                raise HttpError(400, "invalid", "expected a JSON object", "body")
            rated = store.rate(m.group(1), body.get("stars"), body.get("comment"))
            if rated is None:
                raise HttpError(404, "not_found", "no such request")
            status, answer = 200, rated
        elif method == "GET" and (m := _UPDATES.match(path)):
            status, answer = 200, store.updates(m.group(1), query.get("cursor"))
        elif method == "POST" and (m := _HEARTBEAT.match(path)):
            store.heartbeat(m.group(1), _check_heartbeat(body))
            status, answer = 200, {"ok": True}
        elif _known(path):
            raise HttpError(405, "method_not_allowed", f"{method} not allowed here")
        else:
            raise HttpError(404, "not_found", "no such endpoint")
        if self.server.dice.roll(self.server.dice.faults.drop_after_commit_rate):
            store.count("dropped")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send_json(status, answer)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        kiosk = query.get("kiosk_id", "")
        if not KIOSK_ID.match(kiosk):
            raise HttpError(400, "invalid", "kiosk_id is required", "kiosk_id")
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 500:
            raise HttpError(400, "invalid", "limit must be 1..500", "limit")
        items, nxt = self.server.store.list_for_kiosk(kiosk, limit, query.get("after"))
        return {"requests": items, "next": nxt}

    def _inject_before(self) -> bool:
        """Apply the faults that happen before any work; True when the call was answered."""
        dice, faults = self.server.dice, self.server.dice.faults
        if faults.slow_ms:
            self.server.stopping.wait(faults.slow_ms / 1000)
        if faults.bad_response:
            self.server.store.count("bad_response")
            self._bad_response(faults.bad_response)
            return True
        for rate, status, name in ((faults.fail_rate, 500, "failed"), (faults.busy_rate, 503, "busy"),
                                   (faults.throttle_rate, 429, "busy")):
            if dice.roll(rate):
                self.server.store.count(name)
                headers = {"Retry-After": str(faults.retry_after_s)} if status != 500 else {}
                self._send_json(status, error("injected", f"injected fault {status}"), headers)
                return True
        return False

    def _bad_response(self, kind: str) -> None:
        if kind == "hang":
            self.server.stopping.wait(120)
            self.close_connection = True
            return
        if kind == "redirect":
            self.send_response(301)
            self.send_header("Location", "http://central.other-host.invalid" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(HUGE_BYTES + 10))
            self.end_headers()
            self.wfile.write(b'{"pad": "')
            chunk = b"x" * 65536
            for _ in range(HUGE_BYTES // len(chunk)):
                self.wfile.write(chunk)
            self.wfile.write(b'"}')
            return
        raw, ctype = {
            "malformed_json": (b'{"id": "6f1c", "ticket": ', "application/json"),
            "wrong_content_type": (b"<html><body>OK</body></html>", "text/html"),
        }[kind]
        self._send(200, raw, ctype)

    # -- staff ---------------------------------------------------------------------------

    def _staff_api(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        store = self.server.store
        if method == "GET" and path == "/staff/v1/requests":
            return 200, {"requests": store.pool(query.get("status"))}
        if method == "POST" and (m := _STAFF_STATUS.match(path)):
            body = self._read_json()
            if not isinstance(body, dict):
                raise HttpError(400, "invalid", "expected a JSON object", "body")
            return 200, self._set_status(m.group(1), body.get("status"), body.get("note"))
        if path == "/staff/v1/notices":
            if method == "POST":
                return 201, store.post_notice(self._read_json())
            return 200, {"notices": store.notices()}
        if method == "GET" and path == "/staff/v1/heartbeats":
            return 200, {"kiosks": store.heartbeats()}
        if method == "GET" and path == "/staff/v1/stats":
            return 200, store.stats()
        if path == "/staff/v1/faults":
            if method == "POST":
                self.server.dice.faults = Faults.from_dict(self._read_json())
                log.info("faults now %s", self.server.dice.faults)
            return 200, self.server.dice.faults.to_dict()
        raise HttpError(404, "not_found", "no such endpoint")

    def _set_status(self, request_id: str, status: Any, note: Any) -> dict[str, Any]:
        try:
            updated = self.server.store.set_status(request_id, status, note)
        except Conflict as err:
            raise HttpError(409, "conflict", str(err), "status") from None
        if updated is None:
            raise HttpError(404, "not_found", "no such request")
        log.info("request %s is now %s", request_id, status)
        return updated

    def _staff_page(self, method: str, path: str) -> None:
        if path == "/":
            return self._redirect("/staff")
        if method == "POST" and path == "/staff/login":
            token = self._read_form().get("token", "")
            if not _token_ok(token, [self.server.staff_token]):
                return self._send(401, page.login("令牌不正确").encode(), "text/html; charset=utf-8")
            return self._redirect("/staff", {"Set-Cookie": f"{COOKIE}={quote(token)}; HttpOnly; SameSite=Strict;"
                                                           " Path=/staff"})
        if not _token_ok(self._cookie(), [self.server.staff_token]):
            if method == "POST":
                self._read_raw()
            return self._send(401 if method == "POST" else 200, page.login().encode(), "text/html; charset=utf-8")
        store = self.server.store
        if method == "GET" and path == "/staff":
            html = page.pool(store.pool(), store.notices(), store.heartbeats())
            return self._send(200, html.encode(), "text/html; charset=utf-8")
        if method == "POST" and (m := _STAFF_STATUS.match(path)):
            form = self._read_form()
            self._set_status(m.group(1), form.get("status"), form.get("note") or None)
            return self._redirect("/staff")
        if method == "POST" and path == "/staff/notices":
            form = self._read_form()
            try:
                hours = float(form.get("hours") or 24)
            except ValueError:
                raise HttpError(400, "invalid", "hours must be a number", "hours") from None
            store.post_notice({"title": form.get("title"), "body": form.get("body"),
                               "priority": form.get("priority") or "normal", "hours": hours})
            return self._redirect("/staff")
        raise HttpError(404, "not_found", "no such page")

    # -- plumbing ------------------------------------------------------------------------

    def _auth(self, tokens: list[str] | None) -> None:
        header = self.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not _token_ok(token, tokens or []):
            raise HttpError(401, "unauthorized", "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})

    def _cookie(self) -> str:
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                return unquote(value)
        return ""

    def _read_raw(self) -> bytes:
        if self._raw is not None:
            return self._raw
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise HttpError(413 if length > MAX_BODY else 400, "too_large" if length > 0 else "invalid",
                            f"body must be 0..{MAX_BODY} bytes")
        self._raw = self.rfile.read(length)
        return self._raw

    def _read_json(self) -> Any:
        raw = self._read_raw()
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise HttpError(415, "unsupported_media_type", "Content-Type must be application/json")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "malformed_json", "body is not valid JSON") from None

    def _read_form(self) -> dict[str, str]:
        raw = self._read_raw().decode("utf-8", errors="replace")
        return {k: v[-1] for k, v in parse_qs(raw).items()}

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, canonical_json(body).encode(), "application/json", headers)

    def _send(self, status: int, raw: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _redirect(self, where: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(303)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()


def _token_ok(token: str, tokens: list[str]) -> bool:
    ok = False
    for t in tokens:
        ok |= bool(t) and hmac.compare_digest(token.encode(), t.encode())
    return ok


def _known(path: str) -> bool:
    return path in ("/v1/requests", "/v1/requests:batch") or any(
        p.match(path) for p in (_REQUEST, _RATING, _UPDATES, _HEARTBEAT))


def _check_heartbeat(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("body", "expected a JSON object")
    if not isinstance(body.get("version"), str):
        raise InvalidRequest("version", "expected a string")
    depth = body.get("outbox_depth")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise InvalidRequest("outbox_depth", "expected a whole number >= 0")
    age = body.get("oldest_pending_s")
    if age is not None and (not isinstance(age, int | float) or isinstance(age, bool) or age < 0):
        raise InvalidRequest("oldest_pending_s", "expected a number >= 0 or null")
    devices = body.get("devices")
    if not isinstance(devices, list) or len(devices) > 500:
        raise InvalidRequest("devices", "expected a list")
    for i, d in enumerate(devices):
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str) for k in ("kind", "id", "availability")):
            raise InvalidRequest(f"devices[{i}]", "expected kind, id, availability (and fault)")
    parse_rfc3339(body.get("ts"), "ts")
    return body


def read_tokens(path: str) -> list[str]:
    """Tokens from a file, one per line (several kiosks may each have their own)."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def serve(server: CentralServer) -> None:
    """Announce the address on stdout (tests and the demo wait for this line), then serve."""
    print(f"central: listening on {server.url}", flush=True)
    log.info("reference central serving on %s", server.url)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.store.close()
