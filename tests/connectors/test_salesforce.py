"""The Salesforce connector against its stand-in."""

from __future__ import annotations

from typing import Any

from connectors.choices import DeliveryStatus, RunStatus
from connectors.delivery import deliver
from connectors.models import SyncCursor
from mdm.models import GoldenRecord, SourceRecord

from .conftest import new_customer_delivery, pull


def test_full_pull_follows_next_records_url(sf_conn: Any, sf_sandbox: Any) -> None:
    run = pull(sf_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    # Five accounts in three pages, then two contacts in one: Jane Doe works at Contoso and is skipped.
    assert (run.read, run.created, run.pages) == (7, 6, 4)
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
    # The contact of an account is read and skipped, neither updated nor unchanged.
    assert (run.updated, run.created, run.unchanged) == (1, 0, run.read - 2)
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
    assert run.read == 7


def test_crash_resumes_from_last_stored_modstamp(sf_conn: Any, sf_sandbox: Any) -> None:
    sf_sandbox.fail(r"/query/01g", status=500, times=10, skip=1)

    crashed = pull(sf_conn, "customer")
    assert crashed.status == RunStatus.FAILED and crashed.read == 4
    sf_sandbox.faults.clear()

    resumed = pull(sf_conn, "customer")

    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.created == 2  # the last account, then the private contact
    assert SourceRecord.objects.filter(system__code="crm").count() == 6


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


def test_private_contact_is_an_individual_and_a_contact_of_an_account_is_skipped(
    sf_conn: Any, sf_sandbox: Any
) -> None:
    run = pull(sf_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    ada = SourceRecord.objects.get(domain="customer", source_id="003A000002")
    assert ada.attributes["party_type"] == "individual"
    assert (ada.attributes["given_name"], ada.attributes["family_name"]) == ("Ada", "Lovelace")
    assert ada.attributes["email"] == "ada@lovelace.example"
    assert not SourceRecord.objects.filter(source_id="003A000001").exists()
    assert "FROM Contact" in sf_sandbox.requests_to(r"/query$")[-1].arg("q")


def test_full_pull_reads_contracts_and_entitlements_onto_the_accounts_golden_customer(
    sf_conn: Any, sf_sandbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pull(sf_conn, "customer")
        contracts = pull(sf_conn, "contract")
        entitlements = pull(sf_conn, "entitlement")

    assert contracts.status == entitlements.status == RunStatus.SUCCEEDED, (
        contracts.errors,
        entitlements.errors,
    )
    assert (contracts.read, contracts.created, contracts.quarantined) == (2, 2, 0)
    assert (entitlements.read, entitlements.created, entitlements.quarantined) == (2, 2, 0)
    contoso = GoldenRecord.objects.get(source_records__source_id="001A000002")
    contract = SourceRecord.objects.get(domain="contract", source_id="800A000002")
    assert contract.attributes["product_codes"] == ["CRM-CPP", "SUP-PREM"]
    assert (contract.attributes["term_months"], contract.attributes["status"]) == (24, "Activated")
    assert (contract.attributes["start_date"], contract.attributes["end_date"]) == (
        "2025-07-01",
        "2027-06-30",
    )
    assert contract.golden.customer == contoso
    premier = SourceRecord.objects.get(domain="entitlement", source_id="550A000002")
    assert (premier.attributes["sla_level"], premier.attributes["product_code"]) == ("Premium", "SUP-PREM")
    assert premier.attributes["contract_source_id"] == "800A000002"
    assert premier.golden.customer == contoso
    assert premier.golden.attributes["contract_id"] == str(contract.golden.pk)
    northwind = GoldenRecord.objects.get(source_records__source_id="001A000001")
    standard = SourceRecord.objects.get(domain="entitlement", source_id="550A000001")
    assert standard.golden.customer == northwind != contoso
    assert "FROM Entitlement" in sf_sandbox.requests_to(r"/query$")[-1].arg("q")


def test_contract_read_before_its_account_is_held_back_then_resolved(
    sf_conn: Any, sf_sandbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        early = pull(sf_conn, "contract")
        pull(sf_conn, "customer")

    assert early.quarantined == 2
    contract = SourceRecord.objects.get(domain="contract", source_id="800A000001")
    assert contract.golden.customer == GoldenRecord.objects.get(source_records__source_id="001A000001")


def test_incremental_pull_after_a_change_reads_only_the_changed_entitlement(
    sf_conn: Any, sf_sandbox: Any, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pull(sf_conn, "customer")
        pull(sf_conn, "contract")
        pull(sf_conn, "entitlement")
        fake_clock.advance(hours=1)
        sf_sandbox.put("Entitlement", {"Id": "550A000002", "Status": "Inactive"})
        # The stored stamp is the seed's, which both entitlements carry: both come back once more.
        pull(sf_conn, "entitlement")
        fake_clock.advance(hours=1)
        sf_sandbox.put("Entitlement", {"Id": "550A000002", "SLA_Level__c": "Standard"})

        run = pull(sf_conn, "entitlement")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.read, run.updated, run.created, run.unchanged) == (1, 1, 0, 0)
    changed = SourceRecord.objects.get(domain="entitlement", source_id="550A000002")
    assert (changed.attributes["sla_level"], changed.attributes["status"]) == ("Standard", "Inactive")
    assert "SystemModstamp >=" in sf_sandbox.requests_to(r"/query$")[-1].arg("q")
