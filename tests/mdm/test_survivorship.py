"""Survivorship rules and their tie-breaks, pins, union of multi-valued attributes, lineage."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm.survivorship import Member, survive

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
pytestmark = pytest.mark.sqlite


def member(pk: int, system: str, kind: str, days: int, trust: float = 0.5, **attributes) -> Member:
    return Member(pk, system, kind, trust, T0 + dt.timedelta(days=days), attributes)


CRM = dict(system="crm", kind="crm")
ERP = dict(system="erp", kind="erp")


def test_owner_rule_takes_the_best_ranked_system_even_if_older():
    members = [
        member(1, **CRM, days=9, legal_name="Acme Inc"),
        member(2, **ERP, days=1, legal_name="Acme Incorporated"),
    ]
    result = survive("customer", members, {"legal_name": ("owner", ["erp", "crm"])})
    assert result.attributes["legal_name"] == "Acme Incorporated"
    assert result.lineage["legal_name"] == {"record": 2, "system": "erp", "rule": "owner"}


def test_owner_rule_falls_back_to_next_owner_when_first_has_no_value():
    members = [member(1, **CRM, days=1, website="acme.com"), member(2, **ERP, days=9)]
    result = survive("customer", members, {"website": ("owner", ["erp", "crm"])})
    assert result.attributes["website"] == "acme.com"


def test_owner_tie_within_a_system_goes_to_the_most_recent():
    members = [member(1, **ERP, days=1, tax_id="A"), member(2, **ERP, days=5, tax_id="B")]
    assert survive("customer", members, {"tax_id": ("owner", ["erp"])}).attributes["tax_id"] == "B"


def test_most_recent_and_its_tie_break_by_trust():
    members = [member(1, **CRM, days=3, name="Old"), member(2, **ERP, days=7, name="New")]
    assert survive("customer", members, {"name": ("most_recent", [])}).attributes["name"] == "New"
    tied = [member(1, **CRM, days=3, trust=0.2, name="Low"), member(2, **ERP, days=3, trust=0.9, name="High")]
    assert survive("customer", tied, {"name": ("most_recent", [])}).attributes["name"] == "High"


def test_most_complete_takes_the_longest_value():
    members = [
        member(1, **CRM, days=9, legal_name="Acme"),
        member(2, **ERP, days=1, legal_name="Acme Widgets Ltd"),
    ]
    result = survive("customer", members, {"legal_name": ("most_complete", [])})
    assert result.attributes["legal_name"] == "Acme Widgets Ltd"


def test_most_frequent_counts_values_after_normalisation():
    members = [
        member(1, **CRM, days=9, name="Acme"),
        member(2, **ERP, days=1, name="ACME "),
        member(3, system="support", kind="support", days=10, name="Acme Corp"),
    ]
    assert survive("customer", members, {"name": ("most_frequent", [])}).attributes["name"] in (
        "Acme",
        "ACME ",
    )


def test_pin_beats_every_rule():
    members = [member(1, **ERP, days=1, legal_name="Acme Incorporated")]
    result = survive(
        "customer", members, {"legal_name": ("owner", ["erp"])}, pins={"legal_name": "ACME Inc."}
    )
    assert result.attributes["legal_name"] == "ACME Inc."
    assert result.lineage["legal_name"] == {"rule": "pin"}


def test_multi_valued_attributes_are_unioned_after_normalisation():
    members = [
        member(1, **CRM, days=1, phone="+1 (206) 555-0100", country="US", email="a@acme.com"),
        member(2, **ERP, days=2, phone="206.555.0100", country="US", email="b@acme.com"),
    ]
    result = survive("customer", members, {})
    assert len(result.attributes["phone"]) == 1, "one phone in two formats counts once"
    assert sorted(result.attributes["email"]) == ["a@acme.com", "b@acme.com"]
    assert len(result.lineage["email"]) == 2


def test_addresses_carry_their_role():
    members = [
        member(1, **ERP, days=1, address_line1="1 Main St", city="Springfield", country="US"),
        member(
            2,
            **CRM,
            days=2,
            address_line1="9 Side Rd",
            city="Shelbyville",
            country="US",
            address_role="ship_to",
        ),
    ]
    roles = {a["role"] for a in survive("customer", members, {}).attributes["address"]}
    assert roles == {"bill_to", "ship_to"}
