"""Celery doors onto the matching services."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def resolve_records(record_ids: list[int]) -> int:
    """Resolve these source records incrementally. Idempotent: a resolved record stays where it is."""
    return services.resolve_records(record_ids)


@shared_task(acks_late=True)
def resolve_domain(run_id: int) -> None:
    """Batch-resolve the domain of MatchRun `run_id`. Idempotency key: the run ID."""
    services.run_batch(run_id)
