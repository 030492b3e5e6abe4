"""Shared fixtures: source systems, API keys per persona, and API clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from matching import services
from mdm import planner_stats
from mdm.apikeys import issue_key
from mdm.ingest import IngestReport, ingest_records
from mdm.models import SourceSystem


def reset_producers(app: Any) -> None:
    """Forget the Celery app's pooled broker connections, so the next task is sent with the broker
    URL it is set to now (tests point it at a broker of their own)."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _fresh_match_caches() -> None:
    """Matching keeps settings, model and domain sizes per process, and writers count the rows they
    wrote per table; a test's rolled-back database must not reach the next test through them."""
    services._loaded.clear()
    services._counted.clear()
    planner_stats._since.clear()
    planner_stats._unchecked.clear()


@pytest.fixture
def crm(db: Any) -> SourceSystem:
    return SourceSystem.objects.create(code="crm", name="CRM", kind="crm")


@pytest.fixture
def erp(db: Any) -> SourceSystem:
    return SourceSystem.objects.create(code="erp", name="ERP", kind="erp")


@pytest.fixture
def billing(db: Any) -> SourceSystem:
    return SourceSystem.objects.create(code="billing", name="Billing", kind="billing")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """A context that runs the callbacks registered on commit (tasks enqueued after a write).

    Tests run inside a transaction that is rolled back, so without this nothing enqueued on commit runs.
    """
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def ingest(on_commit: Callable[[], Any]) -> Callable[..., IngestReport]:
    """Ingest payloads as a system would, through the one ingest service, with its on-commit work."""

    def run(system: SourceSystem, domain: str, *payloads: dict[str, Any]) -> IngestReport:
        with on_commit():
            return ingest_records(system=system, domain=domain, payloads=list(payloads), received_via="test")

    return run


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """An API client holding a fresh key of `system` with `scopes`."""

    def make(system: SourceSystem, *scopes: str) -> APIClient:
        _, plain = issue_key(system=system, name="test", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain}")
        return client

    return make
