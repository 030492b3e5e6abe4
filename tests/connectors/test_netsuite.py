"""The NetSuite connector against its stand-in: SuiteQL pulls, M2M JWT auth, throttling, resume, upserts."""

from __future__ import annotations

from typing import Any

from connectors.choices import DeliveryStatus, RunStatus
from connectors.connections import connection_configure
from connectors.delivery import deliver
from connectors.http import jwt
from connectors.models import SyncCursor
from mdm.models import SourceRecord

from .conftest import new_customer_delivery, pull, pull_and_deliver

SUITEQL = "/services/rest/query/v1/suiteql"


def test_full_pull_maps_customers_over_suiteql_pages(ns_conn: Any, ns_sandbox: Any) -> None:
    run = pull(ns_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.read, run.created, run.pages) == (4, 4, 2)
    queries = ns_sandbox.requests_to(SUITEQL)
    assert len(queries) == 2 and all(q.header("prefer") == "transient" for q in queries)
    assert [q.arg("limit") for q in queries] == ["2", "2"]
    contoso = SourceRecord.objects.get(system__code="erp", source_id="100300").attributes
    assert contoso["credit_hold"] is True and contoso["payment_status"] == "overdue"
    assert contoso["tax_id"] == "DE136695976" and contoso["legal_name"] == "Contoso Handelsgesellschaft mbH"
    assert contoso["overdue_balance"] == "12500.00"
    uk = SourceRecord.objects.get(system__code="erp", source_id="100410").attributes
    assert uk["parent_source_id"] == "100400" and uk["credit_hold"] is False
    position = SyncCursor.objects.get(connection=ns_conn, stream="customer").position
    assert position["id"] == 100410 and "T" in position["since"]


def test_items_become_products_with_their_sku(ns_conn: Any, ns_sandbox: Any) -> None:
    run = pull(ns_conn, "product")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    item = SourceRecord.objects.get(system__code="erp", domain="product", source_id="100")
    assert item.attributes["code"] == "SKU-CPP-100" and item.attributes["name"] == "Cloud Platform Pro"


def test_client_credentials_jwt_is_signed_and_verified(ns_conn: Any, ns_sandbox: Any) -> None:
    pull(ns_conn, "customer")

    (accepted,) = ns_sandbox.assertions
    assert accepted["header"] == {"typ": "JWT", "alg": "PS256", "kid": ns_sandbox.certificate_id}
    assert accepted["claims"]["aud"].endswith("/services/rest/auth/oauth2/v1/token")
    assert accepted["claims"]["exp"] - accepted["claims"]["iat"] <= 3600

    connection_configure(ns_conn, values={"algorithm": "RS256"})
    assert pull(ns_conn, "customer").status == RunStatus.SUCCEEDED
    assert ns_sandbox.assertions[-1]["header"]["alg"] == "RS256"

    other_key, _ = jwt.new_key_pair()  # a key NetSuite never saw: the token endpoint refuses it
    connection_configure(ns_conn, values={"private_key": other_key})
    refused = pull(ns_conn, "customer")
    assert refused.status == RunStatus.FAILED and refused.errors[0]["status"] == 400
    assert len(ns_sandbox.assertions) == 2


def test_incremental_pull_seeks_past_the_stored_stamp(ns_conn: Any, ns_sandbox: Any, fake_clock: Any) -> None:
    pull(ns_conn, "customer")
    fake_clock.advance(hours=1)
    ns_sandbox.put("customer", {"id": 100400, "phone": "+1 415 555 0100"})

    run = pull(ns_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    # The overlap window reads the last minutes before the stored stamp again; they come back unchanged.
    assert (run.updated, run.created, run.unchanged) == (1, 0, run.read - 1)
    query = ns_sandbox.requests_to(SUITEQL)[-1].json()["q"]
    assert "WHERE lastmodifieddate > TO_TIMESTAMP(" in query
    assert SourceRecord.objects.get(source_id="100400").attributes["phone"] == "+1 415 555 0100"


def test_concurrency_limit_429_is_retried(ns_conn: Any, ns_sandbox: Any, fake_clock: Any) -> None:
    ns_sandbox.fail(SUITEQL, status=429, times=2)

    run = pull(ns_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert len(fake_clock.slept) == 2 and run.read == 4


def test_expired_token_is_refreshed_once(ns_conn: Any, ns_sandbox: Any, fake_clock: Any) -> None:
    ns_sandbox.fail(SUITEQL, status=401, times=1, skip=1)  # the token dies between the two pages
    ns_sandbox.expire_tokens()

    run = pull(ns_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert len(ns_sandbox.requests_to("/oauth2/v1/token")) == 2 and run.read == 4


def test_token_past_its_lifetime_is_renewed_before_use(
    ns_conn: Any, ns_sandbox: Any, fake_clock: Any
) -> None:
    # NetSuite throttles page 2 and asks to wait past the hour the access token lives.
    ns_sandbox.fail(SUITEQL, status=429, times=1, skip=1, headers={"Retry-After": "3700"})

    run = pull(ns_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    # Renewed before the request instead of sending a dead token and taking a 401.
    assert len(ns_sandbox.requests_to("/oauth2/v1/token")) == 2
    assert len(ns_sandbox.requests_to(SUITEQL)) == 3
    assert fake_clock.slept and fake_clock.slept[0] >= 3700


def test_crash_resumes_from_the_last_stored_row(ns_conn: Any, ns_sandbox: Any) -> None:
    ns_sandbox.fail(SUITEQL, status=500, times=10, skip=1)

    crashed = pull(ns_conn, "customer")
    assert crashed.status == RunStatus.FAILED and crashed.read == 2
    ns_sandbox.faults.clear()

    resumed = pull(ns_conn, "customer")

    assert resumed.status == RunStatus.SUCCEEDED, resumed.errors
    assert resumed.created == 2
    assert SourceRecord.objects.filter(system__code="erp").count() == 4


def test_upsert_after_5xx_creates_one_customer(
    ns_conn: Any, ns_sandbox: Any, crm: Any, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    payload = {"source_id": "001X", "name": "Tailspin Toys", "tax_id": "US-77-1234567"}
    golden, delivery = new_customer_delivery(ns_conn, crm, payload, django_capture_on_commit_callbacks)
    ns_sandbox.fail(r"/customer/eid:", status=503, after=True)  # applied, answer lost

    first = deliver(delivery.pk, now=fake_clock.now())
    second = deliver(delivery.pk, now=first.next_attempt_at)

    assert (first.status, second.status) == (DeliveryStatus.RETRYING, DeliveryStatus.SUCCEEDED)
    mine = [c for c in ns_sandbox.records["customer"].values() if c.get("externalid") == str(golden.pk)]
    assert len(mine) == 1 and mine[0]["companyname"] == "Tailspin Toys"
    assert second.external_ids == {"customer": [str(mine[0]["id"])]}


def test_writeback_comes_back_unchanged(
    ns_conn: Any, ns_sandbox: Any, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pull_and_deliver(ns_conn, "customer", django_capture_on_commit_callbacks)
    golden_id = SourceRecord.objects.get(source_id="100300").golden_id
    assert ns_sandbox.records["customer"][100300]["custentity_mdm_golden_id"] == str(golden_id)
    fake_clock.advance(minutes=1)

    echo = pull(ns_conn, "customer")

    assert echo.read == 4 and echo.unchanged == 4 and echo.updated == 0
