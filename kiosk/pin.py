"""Technician PIN: salted PBKDF2 hashes, so the config never holds the PIN itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 200_000


def hash_pin(pin: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """Return `pbkdf2_sha256$ITER$SALT$HASH` for a PIN of 4 to 12 digits."""
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("a PIN is 4 to 12 digits")
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"{ALGORITHM}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    """Split a stored hash into (iterations, salt, digest); ValueError if malformed."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit():
        raise ValueError(f"expected {ALGORITHM}$ITERATIONS$SALT$HASH (make one with `lobby-kiosk hash-pin`)")
    try:
        salt = base64.b64decode(parts[2], validate=True)
        digest = base64.b64decode(parts[3], validate=True)
    except ValueError:
        raise ValueError("salt or hash is not valid base64") from None
    if int(parts[1]) < 10_000 or len(salt) < 8 or len(digest) != 32:
        raise ValueError("too few iterations, or salt/hash of the wrong length")
    return int(parts[1]), salt, digest


def verify_pin(pin: str, encoded: str) -> bool:
    """True when `pin` matches the stored hash (constant-time compare)."""
    iterations, salt, digest = parse_hash(encoded)
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return hmac.compare_digest(candidate, digest)
