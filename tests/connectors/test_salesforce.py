"""The Salesforce connector against its stand-in."""

from __future__ import annotations

from typing import Any

from connectors.choices import DeliveryStatus, RunStatus
from connectors.delivery import deliver
from connectors.models import SyncCursor
from mdm.models import SourceRecord

from .conftest import new_customer_delivery, pull


def test_full_pull_follows_next_records_url(sf_conn: Any, sf_sandbox: Any) -> None:
    run = pull(sf_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.read, run.created, run.pages) == (5, 5, 3)
    assert len(sf_sandbox.requests_to(r"/query/01g")) == 2
    uk = SourceRecord.objects.get(source_id="001A000004")
    assert uk.attributes["parent_source_id"] == "001A000003"
    assert uk.attributes["account_owner"] == "Walter Skinner"
    assert SyncCursor.objects.get(connection=sf_conn, stream="Account").position["since"]


def test_incremental_pull_queries_from_modstamp_less_overlap(
    sf_conn: Any, sf_sandbox: Any, fake_clock: Any
) -> None:
    pull(sf_conn, "customer")
    fake_clock.advance(hours=1)
    sf_sandbox.put("Account", {"Id": "001A000002", "Phone": "+49 30 7654321"})

    run = pull(sf_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    # Everything stamped at the stored position is read again (>=): harmless, it comes back unchanged.
    assert (run.updated, run.created, run.unchanged) == (1, 0, run.read - 1)
    assert "SystemModstamp >=" in sf_sandbox.requests_to(r"/query$")[-1].arg("q")


def test_request_limit_exceeded_403_is_retried(sf_conn: Any, sf_sandbox: Any, fake_clock: Any) -> None:
    sf_sandbox.fail(r"/query$", status=403, times=1)

    run = pull(sf_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert len(fake_clock.slept) == 1


def test_expired_token_is_refreshed_once(sf_conn: Any, sf_sandbox: Any) -> None:
    sf_sandbox.fail(r"/query/01g", status=401, times=1)  # the session dies mid-run
    sf_sandbox.expire_tokens()

    run = pull(sf_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert len(sf_sandbox.requests_to("/services/oauth2/token")) == 2
    assert run.read == 5


def test_crash_resumes_from_last_stored_modstamp(sf_conn: Any, sf_sandbox: Any) -> None:
    sf_sandbox.fail(r"/query/01g", status=500, times=10, skip=1)

    crashed = pull(sf_conn, "customer")
    assert crashed.status == RunStatus.FAILED and crashed.read == 4
    sf_sandbox.faults.clear()

    resumed = pull(sf_conn, "customer")

    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.created == 1
    assert SourceRecord.objects.filter(system__code="crm").count() == 5


def test_upsert_after_5xx_creates_one_account(
    sf_conn: Any, sf_sandbox: Any, erp: Any, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    payload = {"source_id": "100900", "name": "Tailspin Toys", "credit_hold": "true"}
    golden, delivery = new_customer_delivery(sf_conn, erp, payload, django_capture_on_commit_callbacks)
    sf_sandbox.fail(r"/MDM_Golden_Id__c/", status=503, after=True)

    first = deliver(delivery.pk, now=fake_clock.now())
    second = deliver(delivery.pk, now=first.next_attempt_at)

    assert (first.status, second.status) == (DeliveryStatus.RETRYING, DeliveryStatus.SUCCEEDED)
    mine = [a for a in sf_sandbox.objects["Account"].values() if a.get("MDM_Golden_Id__c") == str(golden.pk)]
    assert len(mine) == 1 and mine[0]["MDM_Credit_Hold__c"] is True
