"""A batch run's model fit, queued for another worker that never takes it, is done by the worker that
found the run's candidate pairs (PostgreSQL and the real Redis broker: no worker consumes the queue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings

from matching import services
from matching.models import MatchRun
from tests.conftest import reset_producers
from tests.matching.test_resolution import _grouping, _small_estate

pytestmark = pytest.mark.django_db
BROKER = "redis://127.0.0.1:6379/9"  # this module's own: flushed before and after


@pytest.fixture
def queue_without_workers() -> Iterator[redis.Redis]:
    from config.celery import app

    queue = redis.Redis.from_url(BROKER)
    queue.flushdb()
    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, BROKER
    reset_producers(app)
    try:
        yield queue
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        reset_producers(app)
        queue.flushdb()


def test_a_fit_no_worker_took_is_done_by_the_preparing_worker(
    crm: Any, erp: Any, billing: Any, monkeypatch: pytest.MonkeyPatch, queue_without_workers: redis.Redis
) -> None:
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "needs the PostgreSQL database"
    monkeypatch.setattr(services, "MIN_RECORDS_TO_FIT", 1)
    _small_estate(crm, erp, billing)
    run = services.start_batch("customer")
    shards = services._prepare_batch(run)
    assert queue_without_workers.llen("celery") == 1, "the fit was queued for another worker"
    run.refresh_from_db()
    assert run.scoring["model"]["fitted_records"] == 7 and run.stats["model_seconds"] > 0
    fitted = dict(run.stats)
    # the queued task, delivered at last: the fit is not begun again
    services.fit_batch_model(run.pk, claimant="queued-task")
    run.refresh_from_db()
    assert run.stats == fitted
    for index in range(shards):
        services.score_shard(run.pk, index)
    for index in range(services.settle_batch_run(run.pk)):
        services.create_golden_chunk(run.pk, index)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE, run.error
    assert frozenset({"A1", "A2", "A3"}) in _grouping()


def test_a_worker_process_grown_past_its_memory_bound_is_replaced():
    """Celery reads the bound under its own name (a misspelt setting would be silently ignored)."""
    from config.celery import app

    assert app.conf.worker_max_memory_per_child == 2048 * 1024  # KiB: MDM_WORKER_MAX_MEMORY_MB's default
