"""PostgreSQL planner statistics that keep up with bulk writes.

Autovacuum analyses a table once a tenth of it has changed, but it lags a bulk load and may be off,
as on the benchmark machines. To the planner a table never analysed keeps about one row per
condition: ingest's look-up of a chunk's source IDs then used only the (system, domain) prefix of the
unique index and read every record of the system, so a load slowed down as it grew (300,000 records
at 406 records/s, against 990/s for 100,000), and a prepared statement keeps such a plan until the
table is analysed. Writers therefore count what they write and analyse a table whose size has
doubled since its statistics were taken; a batch run analyses what it rewrote (`refresh`).
"""

from __future__ import annotations

from collections import Counter

from django.db import connection
from django.db.models import Model

# rows this process wrote per table: since it last analysed the table, and since it last looked
_since: Counter[str] = Counter()
_unchecked: Counter[str] = Counter()
CHECK_EVERY = 1000
GROWTH = 2.0


def wrote(model: type[Model], rows: int) -> None:
    """Count `rows` written to `model`'s table; analyse it when it has outgrown its statistics.

    Counted in rows this process wrote, not in the table's size: a table's pages include rows that
    were deleted or rolled back, which the planner's row count rightly leaves out.
    """
    if connection.vendor != "postgresql" or rows <= 0:
        return
    table = model._meta.db_table
    _since[table] += rows
    _unchecked[table] += rows
    if _unchecked[table] < CHECK_EVERY:
        return
    _unchecked[table] = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        (known,) = cursor.fetchone()
        if _since[table] >= max(known, 0) * (GROWTH - 1):
            cursor.execute(f"ANALYZE {table}")
            _since[table] = 0


def refresh(*models: type[Model]) -> None:
    """Analyse these models' tables now (after a bulk rewrite); SQLite keeps such statistics too.

    On PostgreSQL, outside a transaction, the tables are vacuumed as well. Rows just written carry no
    hint bits and their pages are not yet all-visible, so the first reads after a batch run checked
    every row's transaction and visited the heap behind each index entry; the rewritten rows of
    updated tables stayed behind as dead ones. Autovacuum gets to them eventually, and may be off.
    """
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(f"VACUUM (ANALYZE) {table}" if vacuum else f"ANALYZE {table}")
