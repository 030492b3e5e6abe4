"""The hub's outbound webhook signature, `X-MDM-Signature: v1=<hex>`, and its check for receivers.

The signed message is `<X-MDM-Timestamp>.<raw body>` (Unix seconds, a dot, the body bytes exactly as
sent), the MAC is HMAC-SHA256 under the connection's signing secret, in lowercase hex. This module uses the
standard library only, so a receiver written in Python can copy it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

VERSION = "v1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-MDM-Signature` header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    tolerance: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """Is `header` the hub's signature of `body` at `timestamp`, sent within `tolerance` seconds of now?

    Pass the raw request body, before any JSON parsing. The header may list several `v1=` values
    (comma-separated); one matching is enough. Comparison is constant-time; an old or future timestamp
    is refused, so a captured request cannot be replayed later.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    expected = signature(secret, timestamp, body).encode()
    candidates = [part.strip() for part in (header or "").split(",")]
    return any(hmac.compare_digest(expected, c.encode()) for c in candidates if c.startswith(f"{VERSION}="))
