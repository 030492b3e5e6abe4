"""The queue's business impact is stored on each task and follows contracts as they open and close."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from matching.models import ReviewTask
from mdm.golden import rebuild_many
from mdm.ingest import ingest_records
from mdm.models import SourceRecord

from .conftest import place

CONTRACT = {
    "source_id": "sub_1",
    "customer_source_id": "001A",
    "customer_system": "crm",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
}


def _northwind_first(client: Any) -> bool:
    html = client.get(reverse("stewardship:queue")).content.decode()
    return html.index("Northwind Traders") < html.index("Contoso")


def _update_contract(systems: dict[str, Any], status: str) -> None:
    """The billing system sends the contract again with a new status; its golden record is recomputed."""
    ingest_records(
        system=systems["billing"],
        domain="contract",
        payloads=[{**CONTRACT, "status": status, "updated_at": "2026-11-01T09:00:00Z"}],
        received_via="test",
        resolve=False,
    )
    record = SourceRecord.objects.get(domain="contract", source_id=CONTRACT["source_id"])
    assert record.attributes["status"] == status
    rebuild_many([record.golden_id], reason="source record changed")


def _impact(task: ReviewTask) -> int:
    return ReviewTask.objects.get(pk=task.pk).impact


def test_a_contract_closing_or_opening_moves_its_customers_task(review_data, systems, personas, login):
    client = login(personas["steward"])
    northwind, contoso = review_data["northwind"], review_data["contoso"]
    assert (_impact(northwind), _impact(contoso)) == (1, 0)
    assert _northwind_first(client)

    # The contract expires: Northwind's task loses its rank to the higher-scoring Contoso pair.
    _update_contract(systems, "expired")
    assert _impact(northwind) == 0
    assert not _northwind_first(client)

    # It is renewed: Northwind is first again.
    _update_contract(systems, "active")
    assert _impact(northwind) == 1
    assert _northwind_first(client)

    # Contoso signs a contract: both are urgent, and probability decides again.
    place(
        systems["billing"],
        "contract",
        {**CONTRACT, "source_id": "sub_2", "customer_source_id": "002B", "status": "active"},
    )
    assert _impact(contoso) == 1
    assert not _northwind_first(client)
