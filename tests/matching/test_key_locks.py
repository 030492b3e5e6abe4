"""Resolution serialises on PostgreSQL advisory locks of the records' blocking keys (invariant 7)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from matching import services

pytestmark = pytest.mark.django_db(transaction=True)  # the locks end with a real transaction


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
        )
        return cursor.fetchone()[0]


def test_resolution_locks_each_distinct_key_until_its_transaction_ends():
    with transaction.atomic():
        services._lock_keys(["tk:beta", "tk:alpha", "tk:beta", "nm:alpha"])
        assert _advisory_locks_held() == 3
    assert _advisory_locks_held() == 0
