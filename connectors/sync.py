"""Inbound sync runs: read each stream of a domain from its stored position, page by page, hand the records
to ingest, and move the position forward in the same transaction as the records it covers.

A crash therefore loses nothing: the position never passes data that is not stored, and a rerun reads
again at most one page plus the overlap window, which ingest absorbs as `unchanged`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from mdm.ingest import ingest_records

from . import clock as clocks
from . import registry
from .base import Connector
from .choices import RunStatus
from .connections import open_connector
from .http import ConnectorError
from .models import Connection, SyncCursor, SyncRun

log = logging.getLogger("connectors.sync")

# A run claimed longer ago than this is presumed dead (its worker crashed) and no longer blocks others.
RUN_LEASE = dt.timedelta(hours=2)


def overlap() -> dt.timedelta:
    """How far back each incremental read reaches before its position, against vendor clock skew."""
    return dt.timedelta(seconds=getattr(settings, "CONNECTORS_SYNC_OVERLAP_SECONDS", 300))


def sync_start(
    *, connection: Connection, domain: str, full: bool = False, trigger: str = "manual"
) -> SyncRun:
    """Queue a sync run of one connection and domain; `full` reads everything again from the start."""
    if domain not in registry.get(connection.connector).streams:
        raise ValueError(f"{connection.connector} cannot pull {domain}")
    run = SyncRun.objects.create(connection=connection, domain=domain, full=full, trigger=trigger)
    from .tasks import run_sync

    transaction.on_commit(lambda: run_sync.delay(run.pk))
    return run


def _claim(run_id: int) -> bool:
    """Mark the run running unless it already ran or another run of its stream is running."""
    now = timezone.now()
    busy = SyncRun.objects.filter(
        connection=OuterRef("connection"),
        domain=OuterRef("domain"),
        status=RunStatus.RUNNING,
        started_at__gt=now - RUN_LEASE,
    )
    return bool(
        SyncRun.objects.filter(pk=run_id, status=RunStatus.QUEUED)
        .exclude(Exists(busy))
        .update(status=RunStatus.RUNNING, started_at=now)
    )


def sync_execute(run_id: int, *, clock: clocks.Clock | None = None) -> SyncRun:
    """Run a queued sync to its end; a run that is not queued is left as it is (idempotent)."""
    if not _claim(run_id):
        return SyncRun.objects.get(pk=run_id)
    run = SyncRun.objects.select_related("connection__system").get(pk=run_id)
    connection = run.connection
    connector = open_connector(connection, correlation_id=run.correlation_id, clock=clock)
    status, errors = RunStatus.SUCCEEDED, []
    log.info("sync %s %s started [correlation_id=%s]", connection.name, run.domain, run.correlation_id)
    try:
        for stream in connector.streams[run.domain]:
            _sync_stream(run, connector, stream)
    except ConnectorError as exc:
        status = RunStatus.FAILED
        errors = [{"error": str(exc), "status": exc.status, "body": exc.body[:500]}]
        log.warning("sync %s failed: %s [correlation_id=%s]", connection.name, exc, run.correlation_id)
    except Exception as exc:
        status = RunStatus.FAILED
        errors = [{"error": f"{type(exc).__name__}: {exc}"}]
        log.exception("sync %s crashed [correlation_id=%s]", connection.name, run.correlation_id)
    finally:
        connector.close()
        SyncRun.objects.filter(pk=run.pk).update(
            status=status,
            finished_at=timezone.now(),
            errors=errors,
            requests=connector.client.requests_sent,
        )
    run.refresh_from_db()
    return run


def _sync_stream(run: SyncRun, connector: Connector, stream: str) -> None:
    cursor, _ = SyncCursor.objects.get_or_create(connection=run.connection, domain=run.domain, stream=stream)
    position = {} if run.full else cursor.position
    for page in connector.pull(run.domain, stream, position, overlap=overlap()):
        with transaction.atomic():
            report = ingest_records(
                system=run.connection.system,
                domain=run.domain,
                payloads=page.records,
                received_via=f"sync:{run.connection.name}",
            )
            SyncCursor.objects.filter(pk=cursor.pk).update(position=page.position, updated_at=timezone.now())
            counts = report.counts
            SyncRun.objects.filter(pk=run.pk).update(
                read=F("read") + (page.read or len(page.records)),
                created=F("created") + counts["created"],
                updated=F("updated") + counts["updated"],
                unchanged=F("unchanged") + counts["unchanged"],
                stale=F("stale") + counts["stale"],
                quarantined=F("quarantined") + counts["quarantined"],
                pages=F("pages") + 1,
                progress={"stream": stream, "position": page.position},
            )
