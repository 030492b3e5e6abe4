"""Resolution on a real Celery worker (prefork, two processes) over Redis and PostgreSQL: racing
incremental tasks, and a batch run whose shards spread over the worker's processes."""

from __future__ import annotations

import io
import os
import signal
import time

import pytest
from django.core.management import call_command
from django.db import transaction

from matching.models import FeatureChunk, GoldenChunk, MatchRun, MatchShard
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


def _company_pairs() -> list[list[int]]:
    """Two source records (CRM and ERP) of each company, loaded without resolving them."""
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
    return pairs


def _assert_one_golden_record_per_company(pairs: list[list[int]]) -> None:
    for left, right in pairs:
        golden = dict(SourceRecord.objects.filter(pk__in=[left, right]).values_list("pk", "golden_id"))
        assert golden[left] == golden[right], "one company was left with two golden records"
    assert GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE, domain="customer").count() == len(
        COMPANIES
    )


def test_two_workers_racing_on_duplicates_make_one_golden_record(celery_worker):
    pairs = _company_pairs()
    # Both duplicates of each company at the same moment: the two worker processes take one each.
    for left, right in pairs:
        resolve_records.delay([left])
        resolve_records.delay([right])
    _wait_placed([pk for pair in pairs for pk in pair])
    _assert_one_golden_record_per_company(pairs)


@pytest.fixture
def sharding_worker(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A real worker whose batch runs split the records without features into chunks of three, their
    candidate pairs into shards of five, and their new golden records into chunks of two."""
    monkeypatch.setenv("MDM_BATCH_FEATURE_CHUNK", "3")
    monkeypatch.setenv("MDM_BATCH_SHARD_PAIRS", "5")
    monkeypatch.setenv("MDM_BATCH_GOLDEN_CHUNK", "2")
    return request.getfixturevalue("celery_worker")


def test_a_batch_run_scores_its_shards_on_the_workers_and_settles_once(sharding_worker):
    pairs = _company_pairs()
    out = io.StringIO()
    call_command("resolve", "customer", "--timeout", "120", stdout=out)
    run = MatchRun.objects.get()
    assert run.status == MatchRun.Status.DONE and run.progress == 1.0
    assert run.stats["shards"] > 2, run.stats
    assert f"{len(COMPANIES)} golden records" in out.getvalue()
    _assert_one_golden_record_per_company(pairs)
    assert not MatchShard.objects.exists() and not GoldenChunk.objects.exists()
    assert not FeatureChunk.objects.exists() and not SourceRecord.objects.filter(features={}).exists()


def test_a_batch_task_whose_worker_process_dies_is_run_again_by_another(celery_worker):
    """A worker process killed in the middle of a batch run's task (as the kernel kills one out of
    memory) gives the task back to the queue; another process runs it and the run finishes. The test
    holds the run's row locked so that the task is still running when its process is killed."""
    from config.celery import app
    from matching import services
    from matching.tasks import resolve_domain

    pairs = _company_pairs()
    run = services.start_batch("customer")
    with transaction.atomic():
        MatchRun.objects.select_for_update().get(pk=run.pk)
        resolve_domain.delay(run.pk)
        pid = _busy_process(app, celery_worker, "matching.tasks.resolve_domain")
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.5)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE, (run.status, run.error)
    _assert_one_golden_record_per_company(pairs)


def _busy_process(app, broker: str, task_name: str, timeout: float = 60) -> int:
    """The process ID of the worker process running a task of this name."""
    deadline = time.monotonic() + timeout
    with app.connection_for_write(broker) as conn:
        while time.monotonic() < deadline:
            for tasks in (app.control.inspect(timeout=1.0, connection=conn).active() or {}).values():
                for task in tasks:
                    if task["name"] == task_name and task.get("worker_pid"):
                        return task["worker_pid"]
            time.sleep(0.2)
    raise AssertionError(f"no worker process took {task_name}")
