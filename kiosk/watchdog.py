"""systemd notifications (sd_notify) over $NOTIFY_SOCKET with the standard library.

`READY=1` once the home screen is interactive, `WATCHDOG=1` from the Kivy main
loop (so a hung UI thread stops the pings and systemd restarts the kiosk).
Without $NOTIFY_SOCKET every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_S = 10.0


class Notifier:
    """Sends sd_notify datagrams to one socket path (None: disabled)."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec
        self._sock: socket.socket | None = None
        self._warned = False
        self.ready_sent = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Notifier:
        """From $NOTIFY_SOCKET and $WATCHDOG_USEC (as systemd sets them)."""
        env = os.environ if environ is None else environ
        usec = env.get("WATCHDOG_USEC", "")
        return cls(env.get("NOTIFY_SOCKET") or None, int(usec) if usec.isdigit() else None)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def interval_s(self) -> float:
        """How often to ping: half the systemd watchdog period, else 10 s."""
        if self.watchdog_usec:
            return max(0.5, self.watchdog_usec / 2_000_000)
        return DEFAULT_INTERVAL_S

    def notify(self, message: str) -> bool:
        """Send one notification; False (and one logged warning) when it cannot be sent."""
        if not self.address:
            return False
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]  # abstract namespace socket
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), addr)
            return True
        except OSError as err:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd at %s: %s", self.address, err)
            return False

    def ready(self) -> bool:
        """Send READY=1 (once)."""
        if self.ready_sent:
            return True
        self.ready_sent = self.notify("READY=1")
        return self.ready_sent

    def ping(self) -> bool:
        """Send WATCHDOG=1."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
