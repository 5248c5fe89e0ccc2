"""Serial ports by URI (Wyoming style): `serial:///dev/ttyUSB0?baud=19200&parity=N`, or any URL
pyserial understands (`loop://`, `socket://HOST:PORT`, `rfc2217://HOST:PORT`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import serial

from devices.errors import SerialLinkError

_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}
_PYSERIAL_SCHEMES = ("loop", "socket", "rfc2217", "spy", "alt", "hwgrep")


def check_uri(uri: str) -> None:
    """Raise ValueError if `uri` is not a serial URI we can open."""
    _options(uri)


def _options(uri: str) -> dict:
    parts = urlsplit(uri)
    if parts.scheme in _PYSERIAL_SCHEMES:
        return {"url": uri}
    if parts.scheme != "serial" or not parts.path:
        raise ValueError(f"serial device must be serial:///dev/ttyX?baud=N or a pyserial URL, got {uri!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"baud", "parity", "bytesize", "stopbits"}
    if unknown:
        raise ValueError(f"unknown serial option(s): {', '.join(sorted(unknown))}")
    try:
        baud = int(query.get("baud", "9600"))
        bytesize = int(query.get("bytesize", "8"))
        stopbits = float(query.get("stopbits", "1"))
    except ValueError:
        raise ValueError(f"bad number in {uri!r}") from None
    parity = query.get("parity", "N").upper()
    if parity not in _PARITY or bytesize not in (5, 6, 7, 8) or stopbits not in (1, 1.5, 2) or baud <= 0:
        raise ValueError(f"unsupported serial settings in {uri!r}")
    return {"port": parts.path, "baudrate": baud, "parity": _PARITY[parity], "bytesize": bytesize,
            "stopbits": stopbits if stopbits != int(stopbits) else int(stopbits)}


def open_port(uri: str, timeout: float = 0.1) -> serial.SerialBase:
    """Open the port named by `uri`; raises SerialLinkError (never a pyserial error)."""
    try:
        options = _options(uri)
        if "url" in options:
            return serial.serial_for_url(options["url"], timeout=timeout)
        return serial.Serial(timeout=timeout, write_timeout=1.0, **options)
    except (serial.SerialException, OSError, ValueError) as err:
        raise SerialLinkError(f"cannot open {uri}: {err}") from err
