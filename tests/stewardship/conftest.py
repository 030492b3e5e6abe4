"""Personas (viewer, steward, admin) and review data built through the real ingest and golden services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from matching.models import ReviewTask
from mdm.golden import create_golden
from mdm.ingest import ingest_records
from mdm.models import SourceRecord, SourceSystem
from mdm.selectors import customers_with_open_contract
from stewardship.roles import grant_role

PASSWORD = "a-long-test-password"

NORTHWIND_CRM = {
    "source_id": "001A",
    "name": "Northwind Traders",
    "website": "https://www.northwind-traders.com",
    "email": "sales@northwind-traders.com",
    "phone": "+1 206 555 0100",
    "country": "United States",
    "city": "Seattle",
    "updated_at": "2026-10-01T09:00:00Z",
}
NORTHWIND_ERP = {
    "source_id": "C-100",
    "name": "Northwind Traders Inc.",
    "legal_name": "Northwind Traders Incorporated",
    "tax_id": "91-1234567",
    "website": "northwind-traders.com",
    "country": "United States",
    "city": "Seattle",
    "updated_at": "2026-09-01T09:00:00Z",
}
CONTOSO_CRM = {
    "source_id": "002B",
    "name": "Contoso",
    "website": "contoso.de",
    "country": "Germany",
    "updated_at": "2026-09-12T10:00:00Z",
}
CONTOSO_ERP = {
    "source_id": "C-200",
    "name": "Contoso Pharma AG",
    "tax_id": "DE123456789",
    "country": "Germany",
    "updated_at": "2026-09-12T10:00:00Z",
}
PERSON_CRM = {
    "source_id": "003C",
    "party_type": "individual",
    "given_name": "Jane",
    "family_name": "Doe",
    "email": "jane.doe@example.org",
    "birth_date": "1980-02-03",
    "updated_at": "2026-09-12T10:00:00Z",
}


def make_user(username: str, role: str | None) -> Any:
    user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
    if role:
        grant_role(user, role)
    return user


@pytest.fixture
def personas(db: Any) -> dict[str, Any]:
    return {role: make_user(role, role) for role in ("viewer", "steward", "admin")}


@pytest.fixture
def login() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


def place(system: SourceSystem, domain: str, *payloads: dict[str, Any]) -> list[SourceRecord]:
    """Ingest payloads and give each its own golden record, as matching does for a record with no match."""
    report = ingest_records(
        system=system, domain=domain, payloads=list(payloads), received_via="test", resolve=False
    )
    records = list(SourceRecord.objects.filter(pk__in=[o.record_id for o in report.outcomes]).order_by("pk"))
    for record in records:
        create_golden(domain, [record], reason="identity resolution: no match")
    return [SourceRecord.objects.get(pk=r.pk) for r in records]


def open_review(a: SourceRecord, b: SourceRecord, probability: float, score: float) -> ReviewTask:
    """A review task as the engine opens one, with a per-field explanation."""
    left, right = sorted((a, b), key=lambda r: r.pk)
    explanation = [
        {"field": "prior", "level": "prior", "weight": -6.6, "left": None, "right": None},
        {
            "field": "name",
            "level": "high",
            "weight": 5.2,
            "left": left.attributes.get("name"),
            "right": right.attributes.get("name"),
        },
        {"field": "domain", "level": "exact", "weight": 6.1, "left": None, "right": None},
        {"field": "country", "level": "exact", "weight": 0.9, "left": "us", "right": "us"},
        {"field": "tax_id", "level": "missing", "weight": 0.0, "left": None, "right": None},
        {"field": "phone", "level": "different", "weight": -1.4, "left": None, "right": None},
    ]
    return ReviewTask.objects.create(
        domain=left.domain,
        left=left,
        right=right,
        score=score,
        probability=probability,
        explanation=explanation,
        impact=int(bool(customers_with_open_contract([left.golden_id, right.golden_id]))),
    )


@pytest.fixture
def systems(db: Any) -> dict[str, SourceSystem]:
    return {
        code: SourceSystem.objects.create(code=code, name=code.upper(), kind=code)
        for code in ("crm", "erp", "billing")
    }


@pytest.fixture
def review_data(systems: dict[str, SourceSystem]) -> dict[str, Any]:
    """Two open tasks: Northwind (a customer with an open contract) and Contoso (none), plus a person."""
    nw_crm, cont_crm, person = place(systems["crm"], "customer", NORTHWIND_CRM, CONTOSO_CRM, PERSON_CRM)
    nw_erp, cont_erp = place(systems["erp"], "customer", NORTHWIND_ERP, CONTOSO_ERP)
    (contract,) = place(
        systems["billing"],
        "contract",
        {
            "source_id": "sub_1",
            "customer_source_id": "001A",
            "customer_system": "crm",
            "status": "active",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    )
    # Contoso scores higher but has no open contract: Northwind must still come first in the queue.
    contoso = open_review(cont_crm, cont_erp, probability=0.93, score=5.0)
    northwind = open_review(nw_crm, nw_erp, probability=0.81, score=3.9)
    return {
        "nw_crm": nw_crm,
        "nw_erp": nw_erp,
        "cont_crm": cont_crm,
        "cont_erp": cont_erp,
        "person": person,
        "contract": contract,
        "northwind": northwind,
        "contoso": contoso,
    }
