"""Data-quality figures for the console and the API: duplicates, completeness, unmapped codes,
review backlog, and how often the support platform's entitlements disagree with the hub."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from .choices import Domain, GoldenStatus
from .models import GoldenRecord, SourceRecord
from .reference import unmapped_codes

KEY_ATTRIBUTES = ("legal_name", "tax_id", "website", "email", "phone", "address")


def _duplicates() -> dict[str, Any]:
    sources = dict(SourceRecord.objects.values_list("domain").annotate(n=Count("pk")))
    goldens = dict(
        GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE).values_list("domain").annotate(n=Count("pk"))
    )
    return {
        domain: {
            "source_records": sources.get(domain, 0),
            "golden_records": goldens.get(domain, 0),
            "source_records_per_golden": round(sources.get(domain, 0) / goldens[domain], 3)
            if goldens.get(domain)
            else None,
        }
        for domain in Domain.values
    }


def _completeness() -> dict[str, float | None]:
    customers = GoldenRecord.objects.filter(domain="customer", status=GoldenStatus.ACTIVE)
    total = customers.count()
    if not total:
        return dict.fromkeys(KEY_ATTRIBUTES)
    return {
        attribute: round(customers.filter(attributes__has_key=attribute).count() / total, 4)
        for attribute in KEY_ATTRIBUTES
    }


def _entitlement_mismatch() -> dict[str, Any]:
    """Support-platform entitlements whose own status disagrees with the golden eligibility."""
    rows = SourceRecord.objects.filter(domain="entitlement", system__kind="support", golden__isnull=False)
    checked = mismatched = 0
    for status, golden in rows.values_list("attributes__status", "golden__attributes").iterator(
        chunk_size=5000
    ):
        eligibility = (golden or {}).get("eligibility")
        if not status or not eligibility:
            continue
        checked += 1
        mismatched += (str(status).lower() == "active") != bool(eligibility.get("eligible"))
    return {
        "checked": checked,
        "mismatched": mismatched,
        "rate": round(mismatched / checked, 4) if checked else None,
    }


def figures() -> dict[str, Any]:
    """Every data-quality figure, computed now."""
    from matching.models import ReviewTask

    return {
        "duplicates": _duplicates(),
        "open_review_tasks": ReviewTask.objects.filter(status=ReviewTask.Status.OPEN).count(),
        "completeness": _completeness(),
        "unmapped_codes": len(unmapped_codes()),
        "entitlement_mismatch": _entitlement_mismatch(),
    }
