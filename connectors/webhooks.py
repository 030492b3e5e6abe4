"""Inbound webhooks: verify the vendor's signature, store the event once by its ID, process it later.

The endpoint answers as soon as the event is stored; processing (mapping and ingest) runs in a task, so a
slow ingest never makes the vendor time out and resend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from mdm.ingest import ingest_records

from . import clock as clocks
from . import registry
from .choices import WebhookStatus
from .connections import connection_config, open_connector
from .models import Connection, WebhookEvent, new_correlation_id

# Records of several domains in one event are ingested parents first.
DOMAIN_ORDER = ("customer", "product", "contract", "entitlement")


def webhook_receive(
    *, connection: Connection, headers: Mapping[str, str], body: bytes, clock: clocks.Clock | None = None
) -> tuple[WebhookEvent, bool]:
    """Verify and store one delivery; (event, True) when new, (event, False) for a duplicate delivery.

    Raises InvalidSignature for a forged, altered or replayed delivery.
    """
    now = (clock or clocks.current()).now()
    message = registry.get(connection.connector).verify_webhook(
        config=connection_config(connection), headers=headers, body=body, now=now
    )
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                connection=connection,
                event_id=message.event_id,
                event_type=message.event_type,
                payload=message.payload,
            )
    except IntegrityError:
        # The vendor sent it again (at-least-once delivery): count it, change nothing else.
        WebhookEvent.objects.filter(connection=connection, event_id=message.event_id).update(
            deliveries=F("deliveries") + 1
        )
        return WebhookEvent.objects.get(connection=connection, event_id=message.event_id), False
    from .tasks import process_webhook

    transaction.on_commit(lambda: process_webhook.delay(event.pk))
    return event, True


def webhook_process(event_pk: int) -> WebhookEvent:
    """Ingest the records a stored event carries; an event already processed is left alone."""
    claimed = WebhookEvent.objects.filter(pk=event_pk, status=WebhookStatus.QUEUED).update(
        status=WebhookStatus.PROCESSED, processed_at=timezone.now()
    )
    event = WebhookEvent.objects.select_related("connection__system").get(pk=event_pk)
    if not claimed:
        return event
    connection = event.connection
    connector = open_connector(connection, correlation_id=new_correlation_id())
    result: dict[str, Any] = {}
    try:
        by_domain: dict[str, list[dict[str, Any]]] = {}
        for domain, record in connector.webhook_records(event.payload):
            by_domain.setdefault(domain, []).append(record)
        for domain in sorted(by_domain, key=DOMAIN_ORDER.index):
            report = ingest_records(
                system=connection.system,
                domain=domain,
                payloads=by_domain[domain],
                received_via=f"webhook:{connection.name}",
            )
            result[domain] = report.counts
    except Exception as exc:
        WebhookEvent.objects.filter(pk=event_pk).update(status=WebhookStatus.FAILED, error=str(exc)[:2000])
        raise
    finally:
        connector.close()
    WebhookEvent.objects.filter(pk=event_pk).update(result=result)
    event.refresh_from_db()
    return event
