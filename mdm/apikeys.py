"""API keys: issued per source system with scopes, stored as a SHA-256 hash, shown once."""

from __future__ import annotations

import hashlib
import secrets
import threading

from cachetools import TTLCache
from django.core.cache import cache
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


CACHE_SECONDS = 60
# Each process also keeps a key for a few seconds in front of the shared cache, which is a network
# round trip on every call (a quarter of an xref look-up's time). A key revoked elsewhere therefore
# still opens a process that used it in the last LOCAL_SECONDS; one revoked here closes at once.
LOCAL_SECONDS = 5
_local: TTLCache[str, ApiKey] = TTLCache(maxsize=4096, ttl=LOCAL_SECONDS)
_local_lock = threading.Lock()


def _cache_key(key_hash: str) -> str:
    return f"mdm:apikey:{key_hash}"


def authenticate_key(plain: str) -> ApiKey | None:
    """The live key matching `plain`, or None.

    Keys are cached for a minute (in Redis in production): every API call authenticates, and the
    look-up would otherwise be a third of an xref look-up's queries. Revoking clears the cache.
    """
    key_hash = _hash(plain)
    with _local_lock:
        key = _local.get(key_hash)
    if key is None:
        key = cache.get(_cache_key(key_hash))
    if key is None:
        try:
            # get(), not first(): first() orders by id and PostgreSQL may walk that index instead.
            key = ApiKey.objects.select_related("system").get(key_hash=key_hash, revoked_at__isnull=True)
        except ApiKey.DoesNotExist:
            return None
        cache.set(_cache_key(key_hash), key, CACHE_SECONDS)
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        # Touch at most once a minute: a write per request would cost more than the look-up itself.
        key.last_used_at = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        cache.set(_cache_key(key_hash), key, CACHE_SECONDS)
    with _local_lock:
        _local[key_hash] = key
    return key


def revoke_key(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    cache.delete(_cache_key(key.key_hash))
    with _local_lock:
        _local.pop(key.key_hash, None)
