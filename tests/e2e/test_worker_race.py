"""Resolution on a real Celery worker (prefork, two processes) over Redis and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from matching.tasks import resolve_records
from mdm.choices import GoldenStatus
from mdm.ingest import ingest_records
from mdm.models import GoldenRecord, SourceRecord, SourceSystem

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/7"  # a database of its own, so no other worker takes these tasks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[None]:
    """A Celery worker on the test database; tasks sent from the test go to it through Redis."""
    if connection.vendor != "postgresql":
        pytest.fail("the worker tests need the PostgreSQL test database (DATABASE_URL)")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--purge",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(3)  # the worker connects and starts its two processes
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _send(task: str, *args: object) -> None:
    """Send a task through Redis to the worker (send_task never runs it in-process)."""
    with app.connection_for_write(BROKER) as conn:
        app.send_task(task, args=args, connection=conn)


def _wait_placed(ids: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not SourceRecord.objects.filter(pk__in=ids, golden__isnull=True).exists():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not place the records in time")


def test_two_workers_racing_on_duplicates_make_one_golden_record(worker):
    crm = SourceSystem.objects.create(code="crm", kind="crm")
    erp = SourceSystem.objects.create(code="erp", kind="erp")
    acme = {
        "name": "Acme Widgets Inc.",
        "website": "acme-widgets.com",
        "country": "US",
        "phone": "+1 212 555 0100",
    }
    ingest_records(
        system=crm, domain="customer", payloads=[{"source_id": "A", **acme}], received_via="t", resolve=False
    )
    ingest_records(
        system=erp,
        domain="customer",
        payloads=[{"source_id": "B", **acme, "name": "ACME WIDGETS INCORPORATED"}],
        received_via="t",
        resolve=False,
    )
    ids = list(SourceRecord.objects.values_list("pk", flat=True))
    # Two tasks at the same moment: the two worker processes resolve one duplicate each.
    _send(resolve_records.name, [ids[0]])
    _send(resolve_records.name, [ids[1]])
    _wait_placed(ids)
    goldens = set(SourceRecord.objects.values_list("golden_id", flat=True))
    assert len(goldens) == 1
    assert GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE, domain="customer").count() == 1
