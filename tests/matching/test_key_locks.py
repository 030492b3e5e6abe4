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


def test_a_settling_chunk_keeps_keys_written_since_its_delete_rather_than_failing(crm):
    from matching.blocking import blocking_keys
    from matching.models import BlockingKey
    from mdm.ingest import ingest_records
    from mdm.models import SourceRecord

    ingest_records(system=crm, domain="customer", payloads=[{"source_id": "A", "name": "Acme Widgets"}],
                   received_via="t", resolve=False)  # fmt: skip
    record = SourceRecord.objects.get()
    services.ensure_features([record])
    record.refresh_from_db()
    keys = sorted(set(blocking_keys("customer", record.features)))
    # a row the chunk's delete does not see (here: filed under another domain), as one that
    # incremental resolution commits between the chunk's delete and its insert
    BlockingKey.objects.create(domain="product", key=keys[0], record=record, sort="~")
    with transaction.atomic():
        services._store_keys_between("customer", 0, services.LAST_ID)
    stored = set(BlockingKey.objects.filter(record=record).values_list("key", flat=True))
    assert stored == set(keys)
    assert BlockingKey.objects.get(key=keys[0]).domain == "product", "the row written first is kept"
