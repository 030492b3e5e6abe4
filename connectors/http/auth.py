"""Ways to authenticate a request: static keys, and OAuth 2.0 client credentials with token refresh."""

from __future__ import annotations

import base64
import datetime as dt
import threading
from typing import Any

import httpx

from ..clock import Clock
from . import jwt
from .errors import PermanentError, TransientError


class Auth:
    """Adds credentials to a request; `refresh` is called once when the vendor answers 401."""

    refreshable = False

    def headers(self, http: httpx.Client) -> dict[str, str]:
        return {}

    def refresh(self, http: httpx.Client) -> None:
        """Forget any cached credential so the next request fetches a new one."""


class ApiKeyAuth(Auth):
    """A key in a header of the vendor's choosing."""

    def __init__(self, header: str, value: str) -> None:
        self.header = header
        self.value = value

    def headers(self, http: httpx.Client) -> dict[str, str]:
        return {self.header: self.value}


class BearerAuth(ApiKeyAuth):
    """A static bearer token or secret key (Stripe's `sk_…`)."""

    def __init__(self, token: str) -> None:
        super().__init__("Authorization", f"Bearer {token}")


class BasicAuth(ApiKeyAuth):
    """HTTP Basic, e.g. Zendesk's `{email}/token:{api_token}`."""

    def __init__(self, user: str, password: str) -> None:
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        super().__init__("Authorization", f"Basic {encoded}")


class OAuthClientCredentials(Auth):
    """OAuth 2.0 client credentials: fetch a token, reuse it until it expires or is refused, then refetch.

    Subclasses change the token request (NetSuite signs a JWT assertion instead of sending a secret).
    """

    refreshable = True
    # Tokens are renewed this long before their stated expiry, so a request never leaves with a token
    # that dies in flight.
    EARLY = dt.timedelta(seconds=60)

    def __init__(
        self, *, token_url: str, client_id: str, client_secret: str, clock: Clock, scope: str = ""
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.clock = clock
        self.token: str | None = None
        self.expires_at: dt.datetime | None = None
        self.response: dict[str, Any] = {}
        self.fetches = 0
        self._lock = threading.Lock()

    def token_form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id}
        form["client_secret"] = self.client_secret
        if self.scope:
            form["scope"] = self.scope
        return form

    def _fetch(self, http: httpx.Client) -> None:
        try:
            response = http.post(self.token_url, data=self.token_form())
        except httpx.TransportError as exc:
            raise TransientError(f"token endpoint unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError("token endpoint failed", status=response.status_code, body=response.text)
        if response.status_code != 200:
            raise PermanentError("token request refused", status=response.status_code, body=response.text)
        self.response = response.json()
        self.token = self.response["access_token"]
        self.fetches += 1
        lifetime = self.response.get("expires_in")
        self.expires_at = self.clock.now() + dt.timedelta(seconds=int(lifetime)) if lifetime else None

    def headers(self, http: httpx.Client) -> dict[str, str]:
        with self._lock:
            stale = self.expires_at is not None and self.clock.now() >= self.expires_at - self.EARLY
            if self.token is None or stale:
                self._fetch(http)
            return {"Authorization": f"Bearer {self.token}"}

    def refresh(self, http: httpx.Client) -> None:
        with self._lock:
            self.token = None


class OAuthJwtAssertion(OAuthClientCredentials):
    """Client credentials where the client proves itself with a signed JWT (RFC 7523), not a secret.

    NetSuite's machine-to-machine flow: `iss` the client ID, `aud` the token URL, `scope`, a lifetime of at
    most an hour, `kid` the certificate ID registered with the public key; PS256 (or RS256) signed.
    """

    ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        key_id: str,
        private_key: str,
        clock: Clock,
        scope: str = "",
        algorithm: str = "PS256",
        lifetime: int = 300,
    ) -> None:
        super().__init__(token_url=token_url, client_id=client_id, client_secret="", clock=clock, scope=scope)
        self.key_id = key_id
        self.private_key = private_key
        self.algorithm = algorithm
        self.lifetime = lifetime

    def assertion(self) -> str:
        issued = int(self.clock.now().timestamp())
        header = {"typ": "JWT", "alg": self.algorithm, "kid": self.key_id}
        payload = {
            "iss": self.client_id,
            "scope": self.scope,
            "aud": self.token_url,
            "iat": issued,
            "exp": issued + self.lifetime,
        }
        return jwt.sign(header, payload, self.private_key)

    def token_form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": self.ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
