"""Planner statistics keep up with bulk writes (PostgreSQL): a load into a table never analysed must
not leave the planner believing the table holds next to nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from mdm import planner_stats
from mdm.ingest import ingest_records
from mdm.models import SourceRecord

pytestmark = pytest.mark.django_db


def _planner_view(system_id: int) -> tuple[float, str]:
    """(rows the planner believes the table holds, its plan for ingest's look-up of source IDs)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'mdm_sourcerecord'::regclass")
        rows = cursor.fetchone()[0]
        cursor.execute(
            "EXPLAIN SELECT id FROM mdm_sourcerecord WHERE system_id = %s AND domain = 'customer'"
            " AND source_id IN ('a', 'b', 'c')",
            [system_id],
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    return rows, plan


def _load(system, payloads) -> None:
    ingest_records(system=system, domain="customer", payloads=payloads, received_via="test", resolve=False)


def test_ingest_analyses_a_table_that_outgrew_its_statistics(crm, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL planner statistics")
    monkeypatch.setattr(planner_stats, "CHECK_EVERY", 100)
    payloads = [
        {
            "source_id": f"C{i:05d}",
            "name": f"Company {i} Holdings",
            "country": "DE",
            "phone": f"+49301234{i:04d}",
        }
        for i in range(1500)
    ]
    _load(crm, payloads)
    assert SourceRecord.objects.count() == 1500
    rows, plan = _planner_view(crm.pk)
    # checked every 100 rows, analysed whenever the table doubled: at least about half is known
    assert rows >= 600, "the planner was told how large the table has grown"
    index_conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert index_conditions and "source_id" in index_conditions[0], plan


def test_refresh_analyses_at_once(crm):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL planner statistics")
    _load(crm, [{"source_id": f"R{i}", "name": f"Firm {i}"} for i in range(300)])
    planner_stats.refresh(SourceRecord)
    assert _planner_view(crm.pk)[0] == 300


@pytest.mark.django_db(transaction=True)
def test_refresh_outside_a_transaction_vacuums(crm):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL vacuum")
    _load(crm, [{"source_id": f"V{i}", "name": f"Firm {i}"} for i in range(300)])
    planner_stats.refresh(SourceRecord)
    with connection.cursor() as cursor:
        # the visibility map that VACUUM sets and ANALYZE only reads: index-only scans need it
        cursor.execute("SELECT relallvisible FROM pg_class WHERE oid = 'mdm_sourcerecord'::regclass")
        assert cursor.fetchone()[0] > 0
