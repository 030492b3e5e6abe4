"""Field mapping between Stripe objects and the hub's canonical domains, both directions.

Inbound mapping leaves out every `metadata[mdm_*]` key: those are what the hub writes, and ignoring them is
what makes a hub push come back from the next sync as `unchanged` (echo prevention).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

HUB_PREFIX = "mdm_"
TERM_MONTHS = {"year": 12, "month": 1, "week": 0, "day": 0}


def _date(ts: int | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat() if ts else None


def _stamp(ts: int | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z") if ts else None


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v not in (None, "", [])}


def customer(obj: dict[str, Any], *, changed_at: int | None = None) -> dict[str, Any]:
    """A Stripe customer as a canonical customer; Stripe keeps no modification time, events do."""
    address = obj.get("address") or {}
    tax_ids = (obj.get("tax_ids") or {}).get("data") or []
    return _clean(
        {
            "source_id": obj["id"],
            "party_type": "organization",
            "name": obj.get("name"),
            "email": obj.get("email"),
            "phone": obj.get("phone"),
            "tax_id": tax_ids[0]["value"] if tax_ids else None,
            "address_line1": address.get("line1"),
            "address_line2": address.get("line2"),
            "city": address.get("city"),
            "region": address.get("state"),
            "postal_code": address.get("postal_code"),
            "country": address.get("country"),
            "address_role": "bill_to" if address else None,
            "updated_at": _stamp(changed_at),
        }
    )


def product(obj: dict[str, Any], *, changed_at: int | None = None) -> dict[str, Any]:
    """A Stripe product; its code is the lookup key of its default price (what subscriptions name)."""
    price = obj.get("default_price")
    code = (price or {}).get("lookup_key") if isinstance(price, dict) else None
    return _clean(
        {
            "source_id": obj["id"],
            "name": obj.get("name"),
            "code": code or obj.get("metadata", {}).get("code") or obj["id"],
            "category": obj.get("metadata", {}).get("category"),
            "description": obj.get("description"),
            "updated_at": _stamp(obj.get("updated") or changed_at),
        }
    )


def price_code(price: dict[str, Any]) -> str:
    return price.get("lookup_key") or price["id"]


def contract(obj: dict[str, Any], *, changed_at: int | None = None) -> dict[str, Any]:
    """A Stripe subscription as a canonical contract."""
    items = (obj.get("items") or {}).get("data") or []
    recurring = (items[0]["price"].get("recurring") or {}) if items else {}
    months = TERM_MONTHS.get(recurring.get("interval", ""), 0) * int(recurring.get("interval_count") or 1)
    period_end = max((i.get("current_period_end") or 0 for i in items), default=0) or obj.get(
        "current_period_end"
    )
    return _clean(
        {
            "source_id": obj["id"],
            "customer_source_id": obj.get("customer"),
            "product_codes": [price_code(i["price"]) for i in items],
            "start_date": _date(obj.get("start_date")),
            "end_date": _date(obj.get("ended_at") or obj.get("cancel_at") or period_end),
            "status": obj.get("status"),
            "term_months": months or None,
            "updated_at": _stamp(changed_at),
        }
    )


def customer_writeback(golden_id: str, attributes: dict[str, Any]) -> dict[str, str]:
    """The form fields the hub writes on a Stripe customer: its golden ID and hub-owned facts as metadata."""
    fields = {f"metadata[{HUB_PREFIX}golden_id]": golden_id}
    if attributes.get("legal_name"):
        fields[f"metadata[{HUB_PREFIX}legal_name]"] = str(attributes["legal_name"])[:500]
    return fields


def customer_create(golden_id: str, attributes: dict[str, Any], name: str) -> dict[str, str]:
    """The form fields of a new Stripe customer for a golden record Stripe does not hold yet."""
    fields = {"name": name or attributes.get("legal_name") or ""}
    if attributes.get("email"):
        fields["email"] = attributes["email"]
    return {**fields, **customer_writeback(golden_id, attributes)}
