"""Stored features read in bulk, as batch runs and refits read them (up to every record of a domain).

On PostgreSQL the rows come by plain SQL with the features as text, decoded by orjson: for the 35,000
records of a shard, 1.9 s through the ORM (an IN list of thousands of parameters, then ``json.loads``)
became 0.5 s with one array parameter and orjson. SQLite, the embedded default, goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from django.db import connection

from mdm.models import SourceRecord

CHUNK = 20_000
ORM_CHUNK = 5000  # below SQLite's limit on a statement's parameters
_TABLE = SourceRecord._meta.db_table

Features = dict[int, dict[str, Any]]


def _decoded(rows: Iterable[tuple[int, str]]) -> Iterator[tuple[int, dict[str, Any]]]:
    return ((pk, orjson.loads(text)) for pk, text in rows)


def features_of(record_ids: Iterable[int]) -> Features:
    """Features by record, for these records."""
    ids = list(record_ids)
    found: Features = {}
    if connection.vendor != "postgresql":
        for start in range(0, len(ids), ORM_CHUNK):
            rows = SourceRecord.objects.filter(pk__in=ids[start : start + ORM_CHUNK])
            found.update(rows.values_list("pk", "features"))
        return found
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            cursor.execute(
                f"SELECT id, features::text FROM {_TABLE} WHERE id = ANY(%s)", [ids[start : start + CHUNK]]
            )
            found.update(_decoded(cursor.fetchall()))
    return found


def held_features(domain: str, *, chunk: int = CHUNK) -> Features:
    """Features by record, for every source record of `domain`, read `chunk` records at a time."""
    if connection.vendor != "postgresql":
        rows = SourceRecord.objects.filter(domain=domain).values_list("pk", "features")
        return dict(rows.iterator(chunk_size=min(chunk, ORM_CHUNK)))
    found: Features = {}
    last = 0
    with connection.cursor() as cursor:
        # in ID order, so that the features' text is never all held at once
        while True:
            cursor.execute(
                f"SELECT id, features::text FROM {_TABLE} WHERE domain = %s AND id > %s ORDER BY id LIMIT %s",
                [domain, last, chunk],
            )
            rows = cursor.fetchall()
            if not rows:
                return found
            found.update(_decoded(rows))
            last = rows[-1][0]
