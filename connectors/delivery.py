"""Outbound delivery: relay outbox events into one Delivery per subscribed connection, push each with
retries and exponential backoff, park the hopeless ones as dead letters, and replay them on demand.

Delivery is at-least-once: a push may be repeated after a timeout, so every connector writes by external
ID (an upsert) or with the delivery's idempotency key, and a repeat never creates a second record.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from mdm.golden import current
from mdm.models import GoldenRecord, OutboxEvent, SourceRecord
from mdm.reference import in_system_codes
from mdm.selectors import entitlement_check

from . import clock as clocks
from . import registry
from .base import Golden
from .choices import DeliveryStatus
from .connections import open_connector
from .http import ConnectorError, RateLimited
from .models import Connection, Delivery, DeliveryAttempt

log = logging.getLogger("connectors.delivery")


def max_attempts() -> int:
    return getattr(settings, "CONNECTORS_DELIVERY_MAX_ATTEMPTS", 6)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try: 30 s, 1 min, 2 min, … capped at 1 h, with jitter against stampedes."""
    base = getattr(settings, "CONNECTORS_DELIVERY_BACKOFF_SECONDS", 30)
    ceiling = min(3600, base * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=ceiling * random.uniform(0.8, 1.0))


def relay_outbox(*, limit: int = 500) -> list[int]:
    """Turn unrelayed outbox events into deliveries for each subscribed connection; the new delivery IDs."""
    with transaction.atomic():
        # skip_locked lets two relays run at once without double-relaying (PostgreSQL; a no-op on SQLite).
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(relayed_at__isnull=True)
            .order_by("id")[:limit]
        )
        if not events:
            return []
        subscribers = list(Connection.objects.filter(enabled=True))
        rows = [
            Delivery(connection=c, event=e, idempotency_key=e.idempotency_key)
            for e in events
            for c in subscribers
            if _subscribed(c, e)
        ]
        # ignore_conflicts: a relay repeated after a crash finds its deliveries already there.
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=timezone.now())
        ids = list(
            Delivery.objects.filter(event__in=events, status=DeliveryStatus.PENDING, attempts=0).values_list(
                "pk", flat=True
            )
        )
        _enqueue(ids)
    return ids


def _subscribed(connection: Connection, event: OutboxEvent) -> bool:
    """Does `connection` receive `event`? Its own domains, and for the systems that show support terms on
    the customer (Zendesk), every change of an entitlement, which moves its customer's terms."""
    if event.domain in connection.push_domains:
        return True
    return (
        event.domain == "entitlement"
        and "customer" in connection.push_domains
        and registry.get(connection.connector).pushes_support_terms
    )


def _enqueue(ids: list[int], countdown: float = 0) -> None:
    from .tasks import deliver

    for pk in ids:
        transaction.on_commit(lambda pk=pk: deliver.apply_async((pk,), countdown=countdown))


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(
        Delivery.objects.filter(
            due, pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
        ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1)
    )


def golden_for(delivery: Delivery) -> Golden:
    """The golden record's current state for a delivery: the latest values win, so order does not matter."""
    event = delivery.event
    golden = current(event.golden_id) or event.golden
    domain = event.domain
    if domain == "entitlement" and domain not in delivery.connection.push_domains and golden.customer_id:
        # An entitlement change reaches a support desk as its customer's new support terms.
        golden = current(golden.customer_id) or golden.customer
        domain = "customer"
    source_ids = list(
        SourceRecord.objects.filter(
            golden=golden, system=delivery.connection.system_id, domain=domain
        ).values_list("source_id", flat=True)
    )
    return Golden(
        golden_id=str(golden.pk),
        domain=domain,
        kind=event.kind,
        version=event.version,
        attributes=in_system_codes(golden, delivery.connection.system.code),
        source_ids=sorted(source_ids),
        idempotency_key=delivery.idempotency_key,
        extra={"name": golden.name, "status": golden.status, "support": support_terms(golden)},
    )


def support_terms(golden: GoldenRecord) -> dict[str, Any]:
    """The hub's answer to "may this customer receive support now?", as the support desk shows it."""
    if golden.domain != "customer":
        return {}
    answer = entitlement_check(golden)
    return {
        "sla_level": answer["sla_level"],
        "eligibility": "not_entitled" if answer["status"] == "none" else answer["status"],
        "eligible": answer["eligible"],
        "reason": answer["reason"],
    }


def deliver(
    delivery_id: int, *, now: dt.datetime | None = None, clock: clocks.Clock | None = None
) -> Delivery:
    """Try one delivery once if it is due; record the attempt and schedule the next or declare it dead."""
    clock = clock or clocks.current()
    now = now or clock.now()
    if not _claim(delivery_id, now):
        return Delivery.objects.get(pk=delivery_id)
    delivery = Delivery.objects.select_related("connection", "event").get(pk=delivery_id)
    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    # One HTTP try per attempt: every failure is a visible attempt row with its own backoff.
    connector = open_connector(
        delivery.connection, correlation_id=attempt.correlation_id, clock=clock, max_attempts=1
    )
    try:
        external_ids = connector.push(golden_for(delivery))
    except Exception as exc:
        _failed(delivery, attempt, exc, now)
    else:
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(succeeded=True, finished_at=timezone.now())
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SUCCEEDED, external_ids=external_ids, last_error="", next_attempt_at=None
        )
    finally:
        connector.close()
    delivery.refresh_from_db()
    return delivery


def _failed(delivery: Delivery, attempt: DeliveryAttempt, exc: Exception, now: dt.datetime) -> None:
    transient = not isinstance(exc, ConnectorError) or exc.transient
    status_code = exc.status if isinstance(exc, ConnectorError) else None
    message = f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, ConnectorError):
        log.exception(
            "delivery %s failed unexpectedly [correlation_id=%s]", delivery.pk, attempt.correlation_id
        )
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=timezone.now(), status_code=status_code, error=message[:2000]
    )
    if transient and delivery.attempts < max_attempts():
        wait = backoff(delivery.attempts)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            wait = max(wait, dt.timedelta(seconds=exc.retry_after))
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.RETRYING, next_attempt_at=now + wait, last_error=message[:2000]
        )
        _enqueue([delivery.pk], countdown=wait.total_seconds())
    else:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DEAD, next_attempt_at=None, last_error=message[:2000]
        )


def retry_due(*, now: dt.datetime | None = None) -> list[int]:
    """Deliveries whose retry time has come (or whose task was lost), handed to the delivery task again."""
    now = now or clocks.current().now()
    ids = list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.PENDING, created_at__lte=now - dt.timedelta(minutes=5))
        ).values_list("pk", flat=True)[:1000]
    )
    with transaction.atomic():
        _enqueue(ids)
    return ids


def deliveries_replay(*, ids: list[int] | None = None, connection: Connection | None = None) -> list[int]:
    """Put dead deliveries back in line (all, some, or one connection's); the IDs replayed."""
    dead = Delivery.objects.filter(status=DeliveryStatus.DEAD)
    if ids:
        dead = dead.filter(pk__in=ids)
    if connection is not None:
        dead = dead.filter(connection=connection)
    with transaction.atomic():
        replayed = list(dead.select_for_update().values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=replayed).update(status=DeliveryStatus.PENDING, next_attempt_at=None)
        _enqueue(replayed)
    return replayed
