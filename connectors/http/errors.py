"""What can go wrong talking to a vendor, split by what the caller should do about it."""

from __future__ import annotations


class ConnectorError(Exception):
    """Any failure talking to a vendor."""

    transient = False

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:2000]


class TransientError(ConnectorError):
    """Worth retrying later: 5xx, timeouts, connection resets, throttling."""

    transient = True


class RateLimited(TransientError):
    """The vendor asked us to slow down; `retry_after` in seconds when it said how long."""

    def __init__(self, message: str, *, retry_after: float | None, status: int, body: str = "") -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """The credentials were refused; a token refresh may cure it."""


class PermanentError(ConnectorError):
    """Retrying the same request will fail the same way (4xx other than throttling)."""


class InvalidSignature(Exception):
    """A webhook whose signature, timestamp or shape does not hold up."""
