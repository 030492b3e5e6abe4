"""Resolution on a real Celery worker (prefork, two processes) over Redis and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from matching.tasks import resolve_records
from mdm.choices import GoldenStatus
from mdm.ingest import ingest_records
from mdm.models import GoldenRecord, SourceRecord, SourceSystem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _wait_placed(ids: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not SourceRecord.objects.filter(pk__in=ids, golden__isnull=True).exists():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not place the records in time")


COMPANIES = [
    "Acme Widgets",
    "Globex Energy",
    "Initech Software",
    "Umbrella Pharma",
    "Stark Optics",
    "Wayne Freight",
    "Cyberdyne Robotics",
    "Soylent Foods",
    "Tyrell Genetics",
    "Wonka Confections",
    "Hooli Search",
    "Vandelay Imports",
    "Gringotts Lending",
    "Oceanic Airways",
    "Dunder Paper",
    "Pied Piper Storage",
    "Monarch Textiles",
    "Sterling Cooper Media",
    "Duff Brewing",
    "Nakatomi Trading",
]


def test_two_workers_racing_on_duplicates_make_one_golden_record(celery_worker):
    crm = SourceSystem.objects.create(code="crm", kind="crm")
    erp = SourceSystem.objects.create(code="erp", kind="erp")
    pairs = []
    for n, company in enumerate(COMPANIES):
        domain = company.lower().replace(" ", "") + ".com"
        base = {"website": domain, "country": "US", "phone": f"+1 212 555 {1000 + n}"}
        ids = []
        for system, name in ((crm, f"{company} Inc."), (erp, f"{company.upper()} INCORPORATED")):
            payload = {**base, "source_id": f"{system.code}-{n}", "name": name}
            ingest_records(
                system=system, domain="customer", payloads=[payload], received_via="t", resolve=False
            )
            ids.append(SourceRecord.objects.get(system=system, source_id=payload["source_id"]).pk)
        pairs.append(ids)
    # Both duplicates of each company at the same moment: the two worker processes take one each.
    for left, right in pairs:
        resolve_records.delay([left])
        resolve_records.delay([right])
    _wait_placed([pk for pair in pairs for pk in pair])
    for left, right in pairs:
        golden = dict(SourceRecord.objects.filter(pk__in=[left, right]).values_list("pk", "golden_id"))
        assert golden[left] == golden[right], "two workers left one company with two golden records"
    assert GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE, domain="customer").count() == len(
        COMPANIES
    )
