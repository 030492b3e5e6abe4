"""Field mapping between Zendesk organizations/users and canonical customers, both directions.

`external_id` and the `mdm_*` organization fields are the hub's and are not read back (echo prevention).
"""

from __future__ import annotations

from typing import Any


def organization(org: dict[str, Any]) -> dict[str, Any]:
    domains = org.get("domain_names") or []
    record = {
        "source_id": str(org["id"]),
        "party_type": "organization",
        "name": org.get("name"),
        "website": domains[0] if domains else None,
        "updated_at": org.get("updated_at"),
    }
    return {k: v for k, v in record.items() if v not in (None, "")}


def user(row: dict[str, Any]) -> dict[str, Any]:
    """An end user as an individual customer; `u` prefix keeps user IDs apart from organization IDs."""
    record = {
        "source_id": f"u{row['id']}",
        "party_type": "individual",
        "name": row.get("name"),
        "email": row.get("email"),
        "phone": row.get("phone"),
        "updated_at": row.get("updated_at"),
    }
    return {k: v for k, v in record.items() if v not in (None, "")}


def organization_writeback(golden_id: str, support: dict[str, Any]) -> dict[str, Any]:
    """The hub's golden ID as external ID, and the SLA and eligibility agents act on."""
    return {
        "external_id": golden_id,
        "organization_fields": {
            "mdm_sla_level": support.get("sla_level") or "none",
            "mdm_support_eligibility": support.get("eligibility") or "not_entitled",
            "mdm_support_eligible": bool(support.get("eligible")),
            "mdm_support_reason": support.get("reason") or "",
        },
    }
