"""Who may do what: API keys by scope (write only as their own system), staff users by session."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from mdm.choices import Scope
from mdm.models import ApiKey


def key_of(request: Any) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class HasScope(permissions.BasePermission):
    """Reads need the `read` scope, writes the `write` scope; signed-in staff may do both."""

    message = "This API key lacks the scope this request needs."

    def has_permission(self, request: Any, view: Any) -> bool:
        key = key_of(request)
        if key is not None:
            needed = Scope.READ if request.method in permissions.SAFE_METHODS else Scope.WRITE
            return needed in key.scopes
        user = getattr(request, "user", None)
        return bool(user and user.is_authenticated and user.is_staff)


def may_write_as(request: Any, system_code: str) -> bool:
    """A key writes records only as the system it was issued to; staff write as any system."""
    key = key_of(request)
    return key is None or key.system.code == system_code
