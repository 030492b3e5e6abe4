"""HMAC signatures for webhooks, in and out: constant-time comparison, a timestamp window against replays."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from .http import InvalidSignature

# Stripe's libraries default to five minutes; we use the same window for every vendor.
TOLERANCE = dt.timedelta(minutes=5)


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac_sha256(secret, message).hex()


def b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def check_timestamp(timestamp: str, now: dt.datetime, *, tolerance: dt.timedelta = TOLERANCE) -> dt.datetime:
    """The signed time if it lies within `tolerance` of now; a replayed or future-dated one is refused."""
    try:
        stamp = (
            dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
            if timestamp.strip().lstrip("-").isdigit()
            else dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        )
    except (ValueError, OverflowError) as exc:
        raise InvalidSignature("unreadable signature timestamp") from exc
    if abs(now - stamp) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance window (replayed or stale)")
    return stamp


def check_equal(expected: str, candidates: list[str]) -> None:
    """Refuse unless one candidate equals `expected`, comparing in constant time."""
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates):
        raise InvalidSignature("signature does not match")
