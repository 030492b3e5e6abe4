"""How PostgreSQL stores a batch run's shards (the suite runs this module on PostgreSQL only)."""

from __future__ import annotations

import pytest
from django.db import connection

from matching.models import MatchShard


@pytest.mark.django_db
def test_shards_are_stored_uncompressed_on_postgresql():
    """Numbers barely compress, and compressing them made storing a run's shards five times slower."""
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute WHERE attrelid = %s::regclass AND attname IN "
            "('pairs', 'edges')",
            [MatchShard._meta.db_table],
        )
        assert dict(cursor.fetchall()) == {"pairs": "e", "edges": "e"}
