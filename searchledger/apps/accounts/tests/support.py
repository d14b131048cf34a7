"""Test support for sign-in credentials: TOTP codes computed the way an authenticator app
does (RFC 6238), independently of django-otp's verification."""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
from binascii import unhexlify

__all__ = ["RFC_KEY", "totp_code"]

# RFC 6238's SHA-1 test secret ("12345678901234567890"), hex-encoded.
RFC_KEY = "3132333435363738393031323334353637383930"


def totp_code(key_hex: str, at: float | None = None, *, step: int = 30) -> str:
    """The six-digit code for ``key_hex`` at Unix time ``at`` (default now)."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(unhexlify(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"
