"""The whole sync loop on a real Celery worker and Celery beat over Redis and PostgreSQL, against the four
vendor stand-ins: scheduled pulls, resolution, golden IDs written back into every system, and a credit
hold set in the ERP reaching the support desk as "not eligible" within seconds."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from connectors.models import Connection
from connectors.sandbox import connect, run_all
from connectors.schedules import schedule_set
from mdm.ingest import ingest_records
from mdm.models import SourceRecord

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/9"  # a Redis database of its own: no other worker takes these tasks
SETTLE = 90  # seconds the loop may take to pull, resolve and write back everything once
CREDIT_HOLD_DEADLINE = 30  # seconds from the ERP change to the support desk showing it

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for(check: Callable[[], Any], what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def sandboxes() -> Iterator[dict[str, Any]]:
    started = run_all()
    # The test polls every two seconds; Zendesk's export allowance is raised so no pull waits a minute.
    started["zendesk"].export_limit = 1000
    # Contoso starts in good standing; the test puts it on credit hold.
    started["netsuite"].put(
        "customer", {"id": 100300, "creditholdoverride": "AUTO", "overduebalance": "0.00"}
    )
    try:
        yield started
    finally:
        for sandbox in started.values():
            sandbox.stop()


def schedule(connections: dict[str, Connection]) -> None:
    """Pull every two seconds (Zendesk every five); relay the outbox every second."""
    # The test database was flushed by earlier transactional tests: register the housekeeping again.
    migration = importlib.import_module("connectors.migrations.0002_housekeeping_schedules")
    migration.register(apps, None)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="connectors:relay-outbox").update(interval=every_second)
    for vendor, conn in connections.items():
        schedule_set(connection=conn, domain="customer", every_seconds=5 if vendor == "zendesk" else 2)


@pytest.fixture
def celery() -> Iterator[None]:
    """A Celery worker and Celery beat on the test database, through their own Redis database."""
    if connection.vendor != "postgresql":
        pytest.fail("the sync loop test needs the PostgreSQL test database (DATABASE_URL)")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    base = [sys.executable, "-m", "celery", "-A", "config"]
    workdir = tempfile.mkdtemp(prefix="mdm-sync-loop-")
    worker = [*base, "worker", "--concurrency", "4", "--pool", "prefork", "--loglevel", "warning"]
    worker += ["--without-gossip", "--without-mingle", "--purge", "--hostname", f"sync-e2e-{os.getpid()}@%h"]
    beat = [*base, "beat", "--loglevel", "warning", "--max-interval", "1"]
    beat += ["--pidfile", "", "--schedule", f"{workdir}/beat-schedule"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env) for command in (worker, beat)]
    try:
        time.sleep(3)
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"a Celery process exited with {process.returncode}")
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def golden_of(system: str, source_id: str) -> str | None:
    row = SourceRecord.objects.filter(system__code=system, source_id=source_id).first()
    return str(row.golden_id) if row and row.golden_id else None


def test_scheduled_sync_writes_back_and_a_credit_hold_reaches_the_support_desk(
    sandboxes: dict[str, Any], celery: None
) -> None:
    ns, sf, st, zd = (sandboxes[k] for k in ("netsuite", "salesforce", "stripe", "zendesk"))
    connections = connect(sandboxes, sync_domains=["customer"])
    schedule(connections)

    # Scheduled pulls and resolution: Contoso in the four systems is one golden record.
    contoso = wait_for(
        lambda: (
            (g := golden_of("erp", "100300"))
            and all(
                golden_of(s, i) == g
                for s, i in [("crm", "001A000002"), ("billing", "cus_C0nt0s0"), ("support", "3600002")]
            )
            and g
        ),
        "Contoso resolved across the four systems",
        SETTLE,
    )
    # A support entitlement arrives (a bulk file from the support desk's contract list).
    today = dt.date.today()
    ingest_records(
        system=connections["zendesk"].system,
        domain="entitlement",
        received_via="test",
        payloads=[
            {
                "source_id": "ent-2",
                "customer_source_id": "3600002",
                "sla_level": "premium",
                "start_date": (today - dt.timedelta(days=30)).isoformat(),
                "end_date": (today + dt.timedelta(days=300)).isoformat(),
            }
        ],
    )

    # Golden IDs written back into each stand-in's own record, and the support terms onto Zendesk.
    def written_back() -> bool:
        org = zd.orgs[3600002]
        return (
            ns.records["customer"][100300].get("custentity_mdm_golden_id") == contoso
            and sf.objects["Account"]["001A000002"].get("MDM_Golden_Id__c") == contoso
            and st.store["customers"]["cus_C0nt0s0"]["metadata"].get("mdm_golden_id") == contoso
            and org.get("external_id") == contoso
            and org["organization_fields"].get("mdm_support_eligible") is True
        )

    wait_for(written_back, "golden IDs and eligibility written back into the four stand-ins", SETTLE)

    # Finance puts Contoso on credit hold in the ERP.
    started = time.monotonic()
    ns.put("customer", {"id": 100300, "creditholdoverride": "ON"})
    wait_for(
        lambda: zd.orgs[3600002]["organization_fields"].get("mdm_support_eligible") is False,
        "the credit hold to reach Zendesk",
        CREDIT_HOLD_DEADLINE,
    )
    elapsed = time.monotonic() - started
    fields = zd.orgs[3600002]["organization_fields"]
    assert fields["mdm_support_eligibility"] == "suspended" and fields["mdm_support_reason"] == "credit hold"
    print(f"credit hold in NetSuite -> not eligible in Zendesk: {elapsed:.1f} s")
