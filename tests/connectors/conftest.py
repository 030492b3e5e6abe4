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
