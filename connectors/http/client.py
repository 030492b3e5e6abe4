"""One HTTP client for every connector: timeouts, retries with backoff and jitter, rate limits honoured,
expired tokens refreshed once, and a correlation ID on every request."""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Callable
from typing import Any

import httpx

from ..clock import Clock
from .auth import Auth
from .errors import AuthExpired, ConnectorError, PermanentError, RateLimited, TransientError

log = logging.getLogger("connectors.http")

CORRELATION_HEADER = "X-Correlation-ID"


def retry_after_seconds(value: str | None, clock: Clock) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date (RFC 9110 allows both)."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - clock.now()).total_seconds(), 0.0)


def default_throttled(response: httpx.Response) -> bool:
    """The standard throttling answer; connectors add their own (Salesforce's 403)."""
    return response.status_code == 429


class ApiClient:
    """Sends requests to one vendor account and turns its answers into data or typed errors."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth,
        clock: Clock,
        correlation_id: str,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        throttled: Callable[[httpx.Response], bool] = default_throttled,
        headers: dict[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.clock = clock
        self.correlation_id = correlation_id
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.throttled = throttled
        self.rng = rng or random.Random()
        self.requests_sent = 0
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={CORRELATION_HEADER: correlation_id, **(headers or {})},
        )

    def close(self) -> None:
        self.http.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: spreads retries of many workers over the window."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying transient failures; a 2xx response or an exception, never a silent failure."""
        url = self.url(path_or_url)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, url, **kwargs)
                self._raise_for(response)
                return response
            except AuthExpired:
                if refreshed or not self.auth.refreshable:
                    raise
                # One refresh per request: a second 401 means the credentials, not the token, are wrong.
                refreshed = True
                self.auth.refresh(self.http)
                attempt -= 1
            except TransientError as exc:
                if attempt >= self.max_attempts:
                    raise
                delay = self.backoff(attempt - 1)
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    # Never earlier than the vendor asked; a little later so workers do not stampede.
                    delay = exc.retry_after + self.rng.uniform(0, min(1.0, exc.retry_after * 0.1 + 0.1))
                log.warning(
                    "retrying %s %s in %.2fs after %s [correlation_id=%s]",
                    method,
                    url,
                    delay,
                    exc,
                    self.correlation_id,
                )
                self.clock.sleep(delay)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth.headers(self.http), **kwargs.pop("headers", {})}
        self.requests_sent += 1
        log.info("%s %s [correlation_id=%s]", method, url, self.correlation_id)
        try:
            return self.http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientError(f"timed out: {method} {url}") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"connection failed: {method} {url}: {exc}") from exc

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        text = response.text
        if self.throttled(response):
            raise RateLimited(
                f"throttled ({status})",
                retry_after=retry_after_seconds(response.headers.get("Retry-After"), self.clock),
                status=status,
                body=text,
            )
        if status == 401:
            raise AuthExpired("credentials refused (401)", status=status, body=text)
        if status in (408, 409, 423, 425) or status >= 500:
            raise TransientError(f"vendor error {status}", status=status, body=text)
        raise PermanentError(f"request rejected ({status}): {text[:300]}", status=status, body=text)

    def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        return self.request("GET", path_or_url, **kwargs).json()


__all__ = ["ApiClient", "ConnectorError", "retry_after_seconds"]
