"""Shared HTTP machinery for every connector: auth, retries with backoff, rate limits, paging."""

from .auth import ApiKeyAuth, Auth, BasicAuth, BearerAuth, OAuthClientCredentials, OAuthJwtAssertion
from .client import ApiClient
from .errors import AuthExpired, ConnectorError, InvalidSignature, PermanentError, RateLimited, TransientError

__all__ = [
    "ApiClient",
    "ApiKeyAuth",
    "Auth",
    "AuthExpired",
    "BasicAuth",
    "BearerAuth",
    "ConnectorError",
    "InvalidSignature",
    "OAuthClientCredentials",
    "OAuthJwtAssertion",
    "PermanentError",
    "RateLimited",
    "TransientError",
]
