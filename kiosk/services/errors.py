"""Errors of the kiosk's service layer, and plain-language keys for every failure screens show."""

from __future__ import annotations


class Unavailable(Exception):
    """A subsystem cannot be used now. `key` is a strings key saying why, `detail` is technical."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key
        self.detail = detail


# Error class name (devices/sync/voice) -> strings key shown to residents.
_BY_CLASS = {
    "InvalidCode": "common.err_bad_code",
    "PickupLocked": "common.err_pickup_locked",
    "Timeout": "common.err_timeout",
    "Offline": "common.err_offline",
    "InvalidRequest": "common.err_invalid_request",
    "OutboxFull": "common.err_outbox_full",
    "OutboxError": "common.err_storage",
}
_BY_CODE = {
    "bad_code": "common.err_bad_code",
    "jammed": "common.err_jammed",
    "busy": "common.err_busy",
    "offline": "common.err_offline",
    "not_found": "common.err_not_found",
    "expired": "common.err_timeout",
}


def failure_key(err: BaseException) -> str:
    """A strings key describing `err` in plain words (generic failure for anything unknown)."""
    if isinstance(err, Unavailable):
        return err.key
    code = getattr(err, "code", None)
    if isinstance(code, str) and code in _BY_CODE:
        return _BY_CODE[code]
    for cls in type(err).__mro__:
        if cls.__name__ in _BY_CLASS:
            return _BY_CLASS[cls.__name__]
    return "common.err_generic"
