"""Celery doors onto the core's services."""

from celery import shared_task

from . import golden
from .models import GoldenRecord


@shared_task
def refresh_eligibility() -> int:
    """Recompute every entitlement (daily: dates pass without any record changing). Idempotent."""
    ids = GoldenRecord.objects.filter(domain="entitlement", status="active").values_list("pk", flat=True)
    return golden.rebuild_many(list(ids), reason="daily eligibility refresh")
