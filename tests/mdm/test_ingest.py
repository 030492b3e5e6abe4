"""Ingest: idempotent upserts, stale updates, quarantine and replay, cross-domain references."""

from __future__ import annotations

import pytest

from matching.models import BlockingKey
from mdm.choices import QuarantineStatus
from mdm.ingest import replay_quarantined
from mdm.models import QuarantinedRecord, SourceRecord

ACME = {
    "source_id": "001A",
    "name": "Acme Widgets Inc.",
    "website": "https://www.acme-widgets.com/",
    "country": "United States",
    "tax_id": "12-3456789",
    "updated_at": "2026-05-01T10:00:00Z",
}

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_new_record_is_created_placed_and_keyed(crm, ingest):
    report = ingest(crm, "customer", ACME)
    assert report.counts["created"] == 1
    record = SourceRecord.objects.get(system=crm, source_id="001A")
    assert record.raw["website"] == "https://www.acme-widgets.com/"
    assert record.attributes["updated_at"] == "2026-05-01T10:00:00Z"
    assert record.golden is not None, "matching placed the record in a golden record"
    assert record.golden.name == "Acme Widgets Inc."
    assert BlockingKey.objects.filter(record=record).exists()


def test_text_that_needs_escaping_survives_a_bulk_write(crm, ingest):
    """Several records at once go through the bulk insert (one array per column on PostgreSQL):
    quotes, backslashes, commas, braces and non-Latin letters come back exactly as sent."""
    names = ['Müller "Quoted" & Söhne', "Back\\slash, {Braces} Ltd", "Ωmega 'Single' Co; NULL"]
    blank = {"tax_id": "", "website": ""}  # nothing shared: each record keeps its own golden record
    payloads = [{**ACME, **blank, "source_id": f"E{i}", "name": name} for i, name in enumerate(names)]
    report = ingest(crm, "customer", *payloads)
    assert report.counts["created"] == len(names)
    for i, name in enumerate(names):
        record = SourceRecord.objects.get(system=crm, source_id=f"E{i}")
        assert record.raw["name"] == name
        assert record.attributes["name"] == name
        assert record.history.latest().attributes["name"] == name
        assert record.golden.name == name


def test_same_payload_twice_changes_nothing(crm, ingest):
    ingest(crm, "customer", ACME)
    record = SourceRecord.objects.get(source_id="001A")
    versions = record.history.count()
    report = ingest(crm, "customer", ACME)
    assert report.counts["unchanged"] == 1
    record.refresh_from_db()
    assert record.history.count() == versions


def test_update_is_applied_and_older_update_is_stale(crm, ingest):
    ingest(crm, "customer", ACME)
    newer = {**ACME, "name": "Acme Widgets Incorporated", "updated_at": "2026-06-01T00:00:00Z"}
    older = {**ACME, "name": "Acme Old Name", "updated_at": "2026-04-01T00:00:00Z"}
    assert ingest(crm, "customer", newer).counts["updated"] == 1
    assert ingest(crm, "customer", older).counts["stale"] == 1
    record = SourceRecord.objects.get(source_id="001A")
    assert record.attributes["name"] == "Acme Widgets Incorporated"
    assert record.golden.attributes["name"] == "Acme Widgets Incorporated"


def test_invalid_record_is_quarantined_with_reason_and_replayed_after_fix(crm, ingest):
    bad = {**ACME, "source_id": "001B", "updated_at": "last tuesday", "party_type": "robot"}
    report = ingest(crm, "customer", bad, {**ACME, "source_id": "001C"})
    assert [o.outcome for o in report.outcomes] == ["quarantined", "created"]
    q = QuarantinedRecord.objects.get(source_id="001B")
    assert "updated_at" in q.errors and "party_type" in q.errors
    assert "not a date-time" in q.reason
    assert q.raw["party_type"] == "robot", "the payload is kept as received"
    outcome = replay_quarantined(q, payload={**bad, "updated_at": "2026-05-02", "party_type": ""}, user=None)
    assert outcome.outcome == "created"
    q.refresh_from_db()
    assert q.status == QuarantineStatus.REPLAYED
    assert SourceRecord.objects.filter(source_id="001B").exists()


def test_record_without_any_name_is_quarantined(crm, ingest):
    report = ingest(crm, "customer", {"source_id": "X1", "website": "x.com"})
    assert report.outcomes[0].outcome == "quarantined"
    assert "One of name" in report.outcomes[0].reason


def test_placeholders_are_no_values(crm, ingest):
    """An "N/A" names nobody and no country (not Namibia): with no other name the record is quarantined,
    and a country or phone of "n/a" is left out rather than stored as a value survivorship could pick."""
    report = ingest(
        crm,
        "customer",
        {"source_id": "P1", "name": "N/A", "website": "x.com"},
        {**ACME, "source_id": "P2", "country": "n/a", "phone": "-"},
    )
    assert [o.outcome for o in report.outcomes] == ["quarantined", "created"]
    assert "'N/A' holds no value" in report.outcomes[0].reason
    stored = SourceRecord.objects.get(source_id="P2").attributes
    assert "country" not in stored and "phone" not in stored
    # a product's "Unknown" category is a value someone chose
    ingest(crm, "product", {"source_id": "SKU1", "name": "Widget", "category": "Unknown"})
    assert SourceRecord.objects.get(source_id="SKU1").attributes["category"] == "Unknown"


def test_dates_written_the_ways_systems_write_them_are_stored_as_iso(crm, ingest):
    """An ERP's '03.08.1993' or a US CRM's '03/08/1993' is a date of birth, not an invalid record;
    day and month are read in the record's country's order. What is no date is still quarantined, as
    is a date whose order a record without a country cannot tell."""
    person = {"party_type": "individual", "given_name": "Anna", "family_name": "Berg"}
    sent = {
        "D1": ("03.08.1993", "Germany", "1993-08-03"),
        "D2": ("03/08/1993", "USA", "1993-03-08"),
        "D3": ("03/08/1993", "FR", "1993-08-03"),
        "D4": ("2 Oct 2001", "", "2001-10-02"),
        "D5": ("2001-10-02T00:00:00Z", "", "2001-10-02"),
    }
    payloads = [
        {**person, "source_id": sid, "birth_date": raw, "country": country}
        for sid, (raw, country, _) in sent.items()
    ]
    refused = [
        {**person, "source_id": "D6", "birth_date": "1993-02-30"},
        {**person, "source_id": "D7", "birth_date": "03/08/1993"},
    ]
    report = ingest(crm, "customer", *payloads, *refused)
    assert [o.outcome for o in report.outcomes] == ["created"] * len(sent) + ["quarantined"] * 2
    for sid, (_, _, iso) in sent.items():
        assert SourceRecord.objects.get(source_id=sid).attributes["birth_date"] == iso
    assert "'1993-02-30' is not a date" in QuarantinedRecord.objects.get(source_id="D6").reason
    assert "could be day/month or month/day" in QuarantinedRecord.objects.get(source_id="D7").reason


def test_contract_reference_resolves_through_xref_or_waits(crm, billing, ingest):
    contract = {
        "source_id": "sub_1",
        "customer_source_id": "001A",
        "customer_system": "crm",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "status": "active",
    }
    report = ingest(billing, "contract", contract)
    assert report.outcomes[0].outcome == "quarantined"
    q = QuarantinedRecord.objects.get(source_id="sub_1")
    assert q.waiting_for == "customer:crm:001A"
    ingest(crm, "customer", ACME)  # the customer arrives: the waiting contract is replayed
    q.refresh_from_db()
    assert q.status == QuarantineStatus.REPLAYED
    held = SourceRecord.objects.get(domain="contract", source_id="sub_1")
    customer = SourceRecord.objects.get(domain="customer", source_id="001A")
    assert held.golden.customer_id == customer.golden_id
