"""Golden records: events with changes, hierarchy, eligibility over time, entitlement check, codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from mdm import golden as golden_service
from mdm import reference
from mdm.models import GoldenRecord, OutboxEvent, SourceRecord
from mdm.tasks import refresh_eligibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(db):
    from mdm.models import SourceSystem

    return SourceSystem.objects.create(code="support", kind="support")


def golden_of(system, domain, source_id) -> GoldenRecord:
    return SourceRecord.objects.get(system=system, domain=domain, source_id=source_id).golden


def test_a_change_writes_its_event_and_a_rolled_back_change_writes_neither(crm, ingest):
    ingest(crm, "customer", {"source_id": "1", "name": "Acme Inc", "country": "US"})
    golden = golden_of(crm, "customer", "1")
    assert list(golden.events.values_list("kind", "version")) == [("created", 1)]
    ingest(crm, "customer", {"source_id": "1", "name": "Acme Incorporated", "country": "US"})
    golden.refresh_from_db()
    event = golden.events.get(kind="updated")
    assert event.version == golden.version == 2
    assert "name" in event.payload["changed"]
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(crm, "customer", {"source_id": "1", "name": "Acme Rollback", "country": "US"})
        raise RuntimeError("the transaction fails after the change")
    golden.refresh_from_db()
    assert golden.name == "Acme Incorporated"
    assert not OutboxEvent.objects.filter(golden=golden, version=3).exists()


def test_parent_link_from_erp_and_cycle_refused(erp, ingest, key_client):
    ingest(
        erp,
        "customer",
        {"source_id": "P", "name": "Parent Holdings", "tax_id": "DE136695976", "country": "DE"},
    )
    ingest(
        erp,
        "customer",
        {"source_id": "C", "name": "Child Sales Ltd", "country": "GB", "parent_source_id": "P"},
    )
    parent, child = golden_of(erp, "customer", "P"), golden_of(erp, "customer", "C")
    assert child.parent_id == parent.pk
    assert parent.pk != child.pk, "a subsidiary is not merged into its parent"
    ingest(
        erp,
        "customer",
        {
            "source_id": "P",
            "name": "Parent Holdings",
            "tax_id": "DE136695976",
            "country": "DE",
            "parent_source_id": "C",
        },
    )
    parent.refresh_from_db()
    assert parent.parent_id is None, "the link that would close a cycle is refused"
    body = key_client(erp, "read").get(f"/api/v1/golden/{parent.pk}/hierarchy/").json()
    assert [d["id"] for d in body["descendants"]] == [str(child.pk)]
    up = key_client(erp, "read").get(f"/api/v1/golden/{child.pk}/hierarchy/").json()
    assert [a["id"] for a in up["ancestors"]] == [str(parent.pk)]


def test_as_of_read_returns_the_past_version(crm, ingest, key_client):
    ingest(crm, "customer", {"source_id": "1", "name": "Acme Inc", "country": "US"})
    golden = golden_of(crm, "customer", "1")
    between = dt.datetime.now(dt.UTC)
    ingest(crm, "customer", {"source_id": "1", "name": "Acme Renamed", "country": "US"})
    client = key_client(crm, "read")
    past = client.get(f"/api/v1/golden/{golden.pk}/", {"as_of": between.isoformat()}).json()
    assert past["name"] == "Acme Inc"
    assert client.get(f"/api/v1/golden/{golden.pk}/").json()["name"] == "Acme Renamed"
    before = client.get(f"/api/v1/golden/{golden.pk}/", {"as_of": "2001-01-01"})
    assert before.status_code == 404 and before.json()["code"] == "not_yet_created"
    assert client.get(f"/api/v1/golden/{golden.pk}/", {"as_of": "someday"}).status_code == 400


CONTOSO_ERP = {
    "source_id": "E1",
    "name": "Contoso GmbH",
    "tax_id": "DE136695976",
    "country": "DE",
    "website": "www.contoso.de",
    "payment_status": "current",
}


def entitlement(start: str, end: str) -> dict[str, str]:
    """The support platform's entitlement of Contoso, under its billing contract."""
    return {
        "source_id": "ent_1",
        "customer_source_id": "S1",
        "contract_source_id": "sub_1",
        "contract_system": "billing",
        "sla_level": "premium",
        "product_code": "SUP",
        "start_date": start,
        "end_date": end,
        "status": "active",
    }


@pytest.fixture
def entitled(crm, erp, billing, support, ingest):
    """A customer in ERP and support, a billing contract and a support entitlement running this year."""
    year = dt.date.today().year
    ingest(erp, "customer", {**CONTOSO_ERP, "credit_hold": "false", "updated_at": "2026-01-01"})
    ingest(
        support, "customer", {"source_id": "S1", "name": "Contoso", "email": "it@contoso.de", "country": "DE"}
    )
    contoso_billing = {"name": "Contoso GmbH", "tax_id": "DE136695976", "email": "billing@contoso.de"}
    ingest(billing, "customer", {"source_id": "cus_1", **contoso_billing})
    contract = {"customer_source_id": "cus_1", "status": "active"}
    ingest(
        billing,
        "contract",
        {"source_id": "sub_1", **contract, "start_date": f"{year}-01-01", "end_date": f"{year}-12-31"},
    )
    ingest(support, "entitlement", entitlement(f"{year}-01-01", f"{year}-12-31"))
    return golden_of(support, "entitlement", "ent_1")


def test_eligibility_follows_credit_hold_on_and_off(erp, ingest, entitled, key_client):
    assert entitled.attributes["eligibility"]["status"] == "active"
    assert entitled.customer == golden_of(erp, "customer", "E1"), (
        "the support and ERP records are one customer"
    )
    customer = entitled.customer
    ingest(erp, "customer", {**CONTOSO_ERP, "credit_hold": "true", "updated_at": "2026-02-01"})
    entitled.refresh_from_db()
    eligibility = entitled.attributes["eligibility"]
    assert (eligibility["status"], eligibility["eligible"], eligibility["reason"]) == (
        "suspended",
        False,
        "credit hold",
    )
    assert entitled.events.filter(kind="eligibility_changed").exists()
    client = key_client(erp, "read")
    answer = client.get("/api/v1/entitlements/check/", {"system": "support", "source_id": "S1"}).json()
    assert answer == {**answer, "eligible": False, "reason": "credit hold", "sla_level": "premium",
                      "customer_id": str(customer.pk)}  # fmt: skip
    ingest(erp, "customer", {**CONTOSO_ERP, "credit_hold": "false", "updated_at": "2026-03-01"})
    by_golden = client.get("/api/v1/entitlements/check/", {"customer": str(customer.pk)}).json()
    assert by_golden["eligible"] is True and by_golden["status"] == "active"


def test_eligibility_expires_with_the_date_by_the_daily_job(entitled, support, ingest):
    ingest(support, "entitlement", entitlement("2020-01-01", "2020-12-31"))
    entitled.refresh_from_db()
    assert entitled.attributes["eligibility"]["status"] == "expired"
    assert entitled.attributes["eligibility"]["reason"] == "ended on 2020-12-31"
    assert refresh_eligibility() == 0, "nothing changed since: the daily job writes nothing"


def test_entitlement_check_errors(crm, key_client):
    client = key_client(crm, "read")
    assert client.get("/api/v1/entitlements/check/").json()["code"] == "invalid"
    missing = client.get("/api/v1/entitlements/check/", {"system": "crm", "source_id": "nope"})
    assert missing.status_code == 404 and missing.json()["code"] == "customer_not_found"


def test_code_mapping_joins_products_and_unmapped_codes_are_listed(erp, billing, ingest, on_commit):
    ingest(erp, "product", {"source_id": "item-1", "name": "Cloud Platform Pro", "code": "SKU-CPP"})
    ingest(billing, "product", {"source_id": "prod_1", "name": "CPP annual plan", "code": "plan_cpp"})
    ingest(billing, "customer", {"source_id": "cus_1", "name": "Contoso GmbH"})
    ingest(
        billing,
        "contract",
        {"source_id": "sub_1", "customer_source_id": "cus_1", "product_codes": "plan_cpp;plan_x"},
    )
    assert golden_of(erp, "product", "item-1") != golden_of(billing, "product", "prod_1")
    assert {u["code"] for u in reference.unmapped_codes()} == {"plan_x"}
    with on_commit():
        reference.map_code(system=billing, code="plan_cpp", canonical="SKU-CPP", owner="catalogue team")
    product = golden_of(erp, "product", "item-1")
    assert product == golden_of(billing, "product", "prod_1")
    assert product.attributes["codes"] == {"billing": "plan_cpp", "erp": "SKU-CPP"}
    assert reference.translate("SKU-CPP", from_system="erp", to_system="billing") == "plan_cpp"
    assert reference.translate("plan_cpp", from_system="billing", to_system="erp") == "SKU-CPP"
    # Outbound: each system receives the codes it knows; a code it has no mapping for is listed, not guessed.
    assert reference.in_system_codes(product, "billing")["code"] == "plan_cpp"
    assert reference.in_system_codes(product, "erp")["code"] == "SKU-CPP"
    contract = golden_of(billing, "contract", "sub_1")
    for_erp = reference.in_system_codes(contract, "erp")
    assert for_erp["product_codes"] == ["SKU-CPP"]
    assert for_erp["unmapped_codes"] == ["plan_x"]


def test_quality_figures(crm, ingest, key_client):
    ingest(
        crm,
        "customer",
        {"source_id": "1", "name": "Acme Inc", "tax_id": "12-3456789", "country": "US"},
        {"source_id": "2", "name": "Zeta Ltd", "country": "GB"},
    )
    figures = key_client(crm, "read").get("/api/v1/quality/").json()
    assert figures["duplicates"]["customer"] == {
        "source_records": 2,
        "golden_records": 2,
        "source_records_per_golden": 1.0,
    }
    assert figures["completeness"]["tax_id"] == 0.5


def test_merge_of_the_same_golden_record_twice_retires_it_once(crm, erp, ingest):
    ingest(crm, "customer", {"source_id": "1", "name": "Acme Inc", "country": "US"})
    ingest(erp, "customer", {"source_id": "2", "name": "Zeta GmbH", "country": "DE"})
    survivor, other = golden_of(crm, "customer", "1"), golden_of(erp, "customer", "2")
    stale = GoldenRecord.objects.get(pk=other.pk)
    golden_service.merge(survivor, [other, GoldenRecord.objects.get(pk=other.pk)], reason="t")
    golden_service.merge(survivor, [stale], reason="a second caller with a stale object")
    assert other.events.filter(kind="retired").count() == 1
    assert golden_of(erp, "customer", "2") == survivor
