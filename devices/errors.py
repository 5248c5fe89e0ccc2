"""Errors of the devices subsystem. Callers catch these, never a paho or pyserial error."""

from __future__ import annotations


class DevicesError(Exception):
    """Base class of every error the devices subsystem raises or puts in a future."""


class Timeout(DevicesError):
    """No reply (or no reading) came back in time."""


class Offline(DevicesError):
    """The device is known to be offline, or the building broker cannot be reached."""


class DeviceError(DevicesError):
    """The device answered with an error; `code` is the contract's code (`bad_code`, `jammed`, ...)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class WrongCode(DeviceError):
    """Every locker bank refused a pick-up code; `attempts_left` before the lock-out starts."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__("bad_code", f"no locker bank knows this code ({attempts_left} attempts left)")
        self.attempts_left = attempts_left


class InvalidCode(DevicesError, ValueError):
    """A pick-up code that is not exactly six digits (refused before it goes on the wire)."""


class InvalidArgument(DevicesError, ValueError):
    """A command argument outside the contract's range (e.g. unlock seconds not in 1..30)."""


class PickupLocked(DevicesError):
    """Too many wrong pick-up codes: pick-up is locked for `retry_after_s` more seconds."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"pick-up locked after too many wrong codes; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class SerialLinkError(DevicesError):
    """A serial port could not be opened, read or written."""
