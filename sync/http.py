"""A small keep-alive HTTP(S) client for the central service, on http.client.

Connect and read timeouts, TLS verified against the system store or a CA
file, responses capped at 1 MB, 2xx bodies must be JSON, redirects are never
followed. Every failure becomes Unreachable or BadResponse (sync.errors).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sync.errors import BadResponse, SyncError, Unreachable
from sync.settings import CentralSettings

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1_000_000
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True)
class Response:
    """An answer: status, lower-cased headers and the parsed JSON body (None when empty or not JSON)."""

    status: int
    headers: dict[str, str]
    body: Any


class CentralClient:
    """One persistent connection to the central service. Not thread-safe: the agent's thread owns it."""

    def __init__(self, url: str, token: str | None, *, ca_file: str | None = None, verify_tls: bool = True,
                 connect_timeout_s: float = 5.0, read_timeout_s: float = 15.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SyncError(f"central.url is not an http(s) URL: {url}")
        self.url = url
        self.token = token
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s
        self._max = max_response_bytes
        self._conn: http.client.HTTPConnection | None = None
        self._ssl: ssl.SSLContext | None = None
        if self._https:
            self._ssl = ssl.create_default_context(cafile=ca_file)
            if not verify_tls:
                log.warning("TLS certificate checks are OFF for %s (central.verify_tls = false)", self._host)
                self._ssl.check_hostname = False
                self._ssl.verify_mode = ssl.CERT_NONE

    @classmethod
    def from_settings(cls, central: CentralSettings, token: str | None) -> CentralClient:
        return cls(central.url, token, ca_file=central.ca_file, verify_tls=central.verify_tls,
                   connect_timeout_s=central.connect_timeout_s, read_timeout_s=central.read_timeout_s)

    def close(self) -> None:
        """Drop the connection (the next call opens a new one)."""
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._connect_timeout, context=self._ssl)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
            conn.connect()
            assert conn.sock is not None
            conn.sock.settimeout(self._read_timeout)
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return self._conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """One call. `body` is JSON already encoded. Raises Unreachable or BadResponse."""
        hdrs = {"Accept": "application/json", "User-Agent": "lobby-sync/1", **(headers or {})}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        what = f"{method} {path.split('?')[0]}"
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                conn = self._connect()
                conn.request(method, self._prefix + path, body=body, headers=hdrs)
                resp = conn.getresponse()
            except _STALE as err:
                self.close()
                if reused and attempt == 1:
                    # The server closed an idle keep-alive connection; every call we make is safe to repeat.
                    continue
                raise Unreachable(f"{what}: connection dropped ({type(err).__name__})") from err
            except ssl.SSLError as err:
                self.close()
                raise Unreachable(f"{what}: TLS failed: {err.reason or err}") from err
            except (OSError, http.client.HTTPException) as err:
                self.close()
                raise Unreachable(f"{what}: {_describe(err)} ({self._host}:{self._port})") from err
            return self._read(resp, what)
        raise AssertionError("unreachable")

    def _read(self, resp: http.client.HTTPResponse, what: str) -> Response:
        headers = {k.lower(): v for k, v in resp.getheaders()}
        status = resp.status
        if 300 <= status < 400:
            self.close()
            target = urlsplit(headers.get("location", "")).hostname or "?"
            raise BadResponse(f"{what}: redirect {status} to {target} not followed")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max:
            self.close()
            raise BadResponse(f"{what}: response of {int(length)} bytes is over the {self._max} byte limit")
        try:
            data = resp.read(self._max + 1)
        except (OSError, http.client.HTTPException) as err:
            self.close()
            raise Unreachable(f"{what}: reading the answer failed: {_describe(err)}") from err
        if len(data) > self._max:
            self.close()
            raise BadResponse(f"{what}: response over the {self._max} byte limit")
        if resp.will_close:
            self.close()
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        parsed: Any = None
        if data and ctype == "application/json":
            try:
                parsed = json.loads(data)
            except (ValueError, UnicodeDecodeError) as err:
                if 200 <= status < 300:
                    raise BadResponse(f"{what}: malformed JSON in a {status} answer") from err
        elif data and 200 <= status < 300:
            raise BadResponse(f"{what}: content type {ctype or 'missing'}, expected application/json")
        return Response(status, headers, parsed)


def _describe(err: BaseException) -> str:
    if isinstance(err, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, socket.gaierror):
        return f"name lookup failed: {err.strerror}"
    return f"{type(err).__name__}: {err}"
