"""Celery doors onto the connector services: each takes IDs, is safe to run twice, and names its key."""

from __future__ import annotations

from celery import shared_task

from . import delivery, sync, webhooks
from .choices import RunStatus
from .models import Connection, SyncRun


@shared_task(acks_late=True)
def run_sync(run_id: int) -> str:
    """Execute SyncRun `run_id`. Idempotency key: the run ID (only a queued run is claimed)."""
    return sync.sync_execute(run_id).status


@shared_task(acks_late=True, ignore_result=True)
def sync_scheduled(connection_id: int, domain: str) -> int | None:
    """Start a scheduled sync. Idempotency key: (connection, domain); skipped while a run is pending."""
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return None
    if SyncRun.objects.filter(
        connection=connection, domain=domain, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).exists():
        return None
    return sync.sync_start(connection=connection, domain=domain, trigger="schedule").pk


@shared_task(acks_late=True)
def process_webhook(event_pk: int) -> str:
    """Ingest stored WebhookEvent `event_pk`. Idempotency key: the vendor's event ID (per connection)."""
    return webhooks.webhook_process(event_pk).status


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Relay unrelayed outbox events. Idempotency key: (outbox event, connection), unique per Delivery."""
    return len(delivery.relay_outbox())


@shared_task(acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Try Delivery `delivery_id` if due. Idempotency key: the event's idempotency key, sent to the vendor."""
    return delivery.deliver(delivery_id).status


@shared_task(acks_late=True, ignore_result=True)
def retry_due_deliveries() -> int:
    """Re-enqueue deliveries whose retry time has come. Idempotency key: the delivery ID (claimed once)."""
    return len(delivery.retry_due())
