"""API-key authentication: `Authorization: Api-Key <key>` or `X-Api-Key: <key>`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from mdm.apikeys import authenticate_key
from mdm.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request: Any) -> tuple[None, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        plain = request.META.get("HTTP_X_API_KEY", "")
        if header.startswith(f"{self.keyword} "):
            plain = header[len(self.keyword) + 1 :].strip()
        if not plain:
            return None
        key = authenticate_key(plain)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return (None, key)

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The API key as the OpenAPI schema's security scheme, so generated clients and the docs send it."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": f"The key, or the header `Authorization: {ApiKeyAuthentication.keyword} <key>`.",
        }
