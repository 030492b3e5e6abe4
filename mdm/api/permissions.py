"""Who may do what: API keys by scope (write only as their own system), staff users by session."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from mdm.choices import Scope
from mdm.models import ApiKey


def key_of(request: Any) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


# Console roles (groups) whose members may read the API with their session.
READER_GROUPS = ("viewer", "steward", "admin")


class HasScope(permissions.BasePermission):
    """Reads need the `read` scope, writes the `write` scope; signed-in staff may do both, and
    signed-in console users (viewer, steward, admin) may read."""

    message = "This API key lacks the scope this request needs."

    def has_permission(self, request: Any, view: Any) -> bool:
        # A view whose POST only asks a question (search before create) says so with `reads_only`.
        reads = request.method in permissions.SAFE_METHODS or getattr(view, "reads_only", False)
        key = key_of(request)
        if key is not None:
            return (Scope.READ if reads else Scope.WRITE) in key.scopes
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            return False
        if user.is_staff:
            return True
        return (
            request.method in permissions.SAFE_METHODS and user.groups.filter(name__in=READER_GROUPS).exists()
        )


def may_write_as(request: Any, system_code: str) -> bool:
    """A key writes records only as the system it was issued to; staff write as any system."""
    key = key_of(request)
    return key is None or key.system.code == system_code
