"""Reads of the core: cross-reference look-ups, golden records with their sources, exports."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from io import StringIO

from django.db.models import QuerySet

from .choices import GoldenStatus
from .golden import current
from .models import GoldenRecord, SourceRecord


def source_record(*, system: str, domain: str, source_id: str) -> SourceRecord | None:
    return (
        SourceRecord.objects.select_related("system", "golden")
        .filter(system__code=system, domain=domain, source_id=source_id)
        .first()
    )


def golden_lookup(golden_id: str) -> tuple[GoldenRecord | None, bool]:
    """The current golden record for an ID and whether the ID was retired (merged away)."""
    found = current(golden_id)
    return found, found is not None and str(found.pk) != str(golden_id)


def golden_records(domain: str | None = None) -> QuerySet[GoldenRecord]:
    rows = GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE)
    return rows.filter(domain=domain) if domain else rows


def xref_rows(domain: str) -> Iterator[tuple[str, str, str]]:
    """(system, source_id, golden_id) for every placed source record of `domain`, streamed."""
    rows = (
        SourceRecord.objects.filter(domain=domain, golden__isnull=False)
        .order_by("system__code", "source_id")
        .values_list("system__code", "source_id", "golden_id")
    )
    for system, source_id, golden_id in rows.iterator(chunk_size=10000):
        yield system, source_id, str(golden_id)


def xref_csv_lines(domain: str) -> Iterator[str]:
    """The cross-reference of `domain` as CSV lines with a header: system,source_id,golden_id."""
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["system", "source_id", "golden_id"])
    for row in xref_rows(domain):
        writer.writerow(row)
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
