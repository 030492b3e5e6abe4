"""Fixtures: a fake clock shared by clients and stand-ins, the stand-ins, and connections to them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors import clock as clocks
from connectors.connections import connection_create
from connectors.models import Connection
from connectors.sandbox.stripe import StripeSandbox


@pytest.fixture
def fake_clock() -> Iterator[clocks.FakeClock]:
    """A clock that sleeps instantly; installed for services called without one (tasks, views)."""
    clock = clocks.FakeClock()
    with clocks.use(clock):
        yield clock


@pytest.fixture(autouse=True)
def _fast_delivery(settings: Any) -> None:
    settings.CONNECTORS_DELIVERY_MAX_ATTEMPTS = 3


@pytest.fixture
def stripe_sandbox(fake_clock: clocks.FakeClock) -> Iterator[StripeSandbox]:
    with StripeSandbox(clock=fake_clock) as sandbox:
        yield sandbox


@pytest.fixture
def stripe_conn(db: Any, stripe_sandbox: StripeSandbox) -> Connection:
    return connection_create(
        name="stripe",
        connector="stripe",
        system="billing",
        config={
            "api_base": stripe_sandbox.base_url,
            "api_key": stripe_sandbox.api_key,
            "webhook_secret": stripe_sandbox.webhook_secret,
        },
    )


def pull(connection: Connection, domain: str, *, full: bool = False) -> Any:
    """Run one sync in this process, the way `sync_now` does, and return the finished SyncRun."""
    from connectors.models import SyncRun
    from connectors.sync import sync_execute

    run = SyncRun.objects.create(connection=connection, domain=domain, full=full)
    return sync_execute(run.pk)


@pytest.fixture
def sf_sandbox(fake_clock: clocks.FakeClock) -> Iterator[Any]:
    from connectors.sandbox.salesforce import SalesforceSandbox

    with SalesforceSandbox(clock=fake_clock, batch_size=2) as sandbox:
        yield sandbox


@pytest.fixture
def sf_conn(db: Any, sf_sandbox: Any) -> Connection:
    return connection_create(
        name="salesforce",
        connector="salesforce",
        system="crm",
        config={
            "login_url": sf_sandbox.base_url,
            "client_id": sf_sandbox.client_id,
            "client_secret": sf_sandbox.client_secret,
        },
    )


@pytest.fixture
def zd_sandbox(fake_clock: clocks.FakeClock) -> Iterator[Any]:
    from connectors.sandbox.zendesk import ZendeskSandbox

    with ZendeskSandbox(clock=fake_clock, page_size=2) as sandbox:
        yield sandbox


@pytest.fixture
def zd_conn(db: Any, zd_sandbox: Any) -> Connection:
    return connection_create(
        name="zendesk",
        connector="zendesk",
        system="support",
        config={
            "base_url": zd_sandbox.base_url,
            "email": zd_sandbox.email,
            "api_token": zd_sandbox.api_token,
            "webhook_secret": zd_sandbox.webhook_secret,
        },
    )


@pytest.fixture
def ns_sandbox(fake_clock: clocks.FakeClock) -> Iterator[Any]:
    from connectors.sandbox.netsuite import NetSuiteSandbox

    with NetSuiteSandbox(clock=fake_clock) as sandbox:
        yield sandbox


@pytest.fixture
def ns_conn(db: Any, ns_sandbox: Any) -> Connection:
    return connection_create(
        name="netsuite",
        connector="netsuite",
        system="erp",
        config={
            "account_url": ns_sandbox.base_url,
            "client_id": ns_sandbox.client_id,
            "certificate_id": ns_sandbox.certificate_id,
            "private_key": ns_sandbox.private_key,
            "page_size": 2,
        },
    )


def new_customer_delivery(
    connection: Connection, system: Any, payload: dict[str, Any], capture: Any
) -> tuple[Any, Any]:
    """A golden customer the vendor does not hold yet, and its delivery to `connection` (create_missing)."""
    from connectors.connections import connection_configure
    from connectors.delivery import relay_outbox
    from connectors.models import Delivery
    from mdm.ingest import ingest_records
    from mdm.models import GoldenRecord

    connection_configure(connection, values={"create_missing": True})
    with capture(execute=True):
        ingest_records(system=system, domain="customer", received_via="test", payloads=[payload])
    golden = GoldenRecord.objects.get(source_records__source_id=payload["source_id"])
    relay_outbox()
    return golden, Delivery.objects.get(connection=connection)


def pull_and_deliver(connection: Connection, domain: str, capture: Any) -> None:
    """Pull once, relay the golden changes, and deliver every one to `connection`; each must succeed."""
    from connectors.choices import DeliveryStatus
    from connectors.delivery import deliver, relay_outbox
    from connectors.models import Delivery

    with capture(execute=True):
        pull(connection, domain)
    relay_outbox()
    for delivery in Delivery.objects.filter(connection=connection):
        done = deliver(delivery.pk)
        assert done.status == DeliveryStatus.SUCCEEDED, done.last_error
