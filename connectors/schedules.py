"""Schedules as database rows (django-celery-beat), editable in the admin, the API or here."""

from __future__ import annotations

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .models import Connection

SYNC_TASK = "connectors.tasks.sync_scheduled"
# The housekeeping rows (outbox relay, retry sweep) are registered by migration 0002_housekeeping_schedules.


def schedule_name(connection: Connection, domain: str) -> str:
    return f"connectors:sync:{connection.name}:{domain}"


def _every(seconds: int) -> IntervalSchedule:
    schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    return schedule


def schedule_set(
    *, connection: Connection, domain: str, every_seconds: int, enabled: bool = True
) -> PeriodicTask:
    """Create or change the periodic sync of one connection and domain."""
    task, _ = PeriodicTask.objects.update_or_create(
        name=schedule_name(connection, domain),
        defaults={
            "task": SYNC_TASK,
            "interval": _every(every_seconds),
            "kwargs": json.dumps({"connection_id": connection.pk, "domain": domain}),
            "enabled": enabled,
            # A beat tick not picked up before the next one is pointless: let it expire just before.
            "expire_seconds": max(int(every_seconds * 0.9), 1),
        },
    )
    return task


def schedules_for(connection: Connection) -> list[PeriodicTask]:
    """The sync schedules of one connection."""
    return list(PeriodicTask.objects.filter(name__startswith=f"connectors:sync:{connection.name}:"))
