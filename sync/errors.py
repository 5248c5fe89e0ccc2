"""Errors of the sync subsystem. Callers catch these, never sqlite3's or http.client's."""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error the sync subsystem raises."""


class InvalidRequest(SyncError):
    """A request (or rating) does not satisfy the central API contract; nothing was stored."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OutboxError(SyncError):
    """The outbox database could not be read or written (disk full, corrupt file, ...)."""


class OutboxFull(SyncError):
    """The outbox is at its cap and holds nothing it may evict; the request was not stored."""


class AgentAlreadyRunning(SyncError):
    """Another `lobby-sync run` holds the agent lock of this state directory."""


class CentralError(SyncError):
    """A call to the central service failed. `retryable` says whether the same call may be repeated."""

    retryable = True


class Unreachable(CentralError):
    """No answer: connection refused or dropped, DNS or TLS failure, timeout."""


class BadResponse(CentralError):
    """An answer that breaks the contract: malformed or oversized JSON, wrong content type, redirect."""


class ServerError(CentralError):
    """A 5xx or otherwise unexpected status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Busy(CentralError):
    """429 or 503: the central asked us to come back after `retry_after_s` seconds."""

    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}: busy, retry after {retry_after_s}s")
        self.status = status
        self.retry_after_s = retry_after_s


class Unauthorized(CentralError):
    """401: the kiosk token is missing or wrong. Not retried until the token changes."""

    retryable = False


class Rejected(CentralError):
    """400/422 for one request: the central will never accept it as it is."""

    retryable = False

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}" + (f" ({field})" if field else ""))
        self.status = status
        self.code = code
        self.field = field
