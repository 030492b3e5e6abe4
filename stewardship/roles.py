"""Console roles: viewer < steward < admin, held as Django groups created by a data migration."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

VIEWER, STEWARD, ADMIN = "viewer", "steward", "admin"
RANK = {VIEWER: 1, STEWARD: 2, ADMIN: 3}
# Apps whose settings an administrator edits in the Django admin.
ADMIN_APPS = ("mdm", "matching", "connectors", "django_celery_beat", "auth")


def role_of(user: Any) -> str | None:
    """The highest console role of `user`, or None; a superuser is an administrator."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    names = {g.name for g in user.groups.all()} & RANK.keys()
    return max(names, key=RANK.__getitem__) if names else None


def has_role(user: Any, minimum: str) -> bool:
    """True when `user` holds `minimum` or a higher role."""
    role = role_of(user)
    return role is not None and RANK[role] >= RANK[minimum]


def grant_role(user: Any, role: str) -> None:
    """Put `user` in the group of `role`; an administrator also gets the Django admin and its rights."""
    # get_or_create: a flushed test database (or a hand-made one) may lack the migrated groups.
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if role == ADMIN:
        # The Django admin needs is_staff plus model permissions; the admin group carries the latter.
        group = Group.objects.get_or_create(name=ADMIN)[0]
        group.permissions.add(*Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
        user.is_staff = True
        user.save(update_fields=["is_staff"])
