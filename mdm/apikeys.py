"""API keys: issued per source system with scopes, stored as a SHA-256 hash, shown once."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from .choices import Scope
from .models import ApiKey, SourceSystem

PREFIX_LENGTH = 8


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(*, system: SourceSystem, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key for `system`; the plain key is returned once and never stored."""
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    plain = f"mdm_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(system=system, name=name, prefix=prefix, key_hash=_hash(plain), scopes=scopes)
    return key, plain


def authenticate_key(plain: str) -> ApiKey | None:
    """The live key matching `plain`, or None."""
    key = (
        ApiKey.objects.select_related("system").filter(key_hash=_hash(plain), revoked_at__isnull=True).first()
    )
    if key is not None and (key.last_used_at is None or (timezone.now() - key.last_used_at).seconds > 60):
        # Touch at most once a minute: a write per request would cost more than the look-up itself.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def revoke_key(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
