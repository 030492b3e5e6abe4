"""Field mapping between Salesforce sObjects and the hub's canonical domains, both directions.

`MDM_Golden_Id__c`, `MDM_Credit_Hold__c` and `MDM_Payment_Status__c` are written by the hub and never
read back, so a write-back returns from the next sync as `unchanged`.
"""

from __future__ import annotations

from typing import Any

GOLDEN_FIELD = "MDM_Golden_Id__c"
ACCOUNT_FIELDS = (
    "Id, Name, BillingStreet, BillingCity, BillingState, BillingPostalCode, BillingCountry, Phone, "
    "Website, ParentId, Owner.Name, SystemModstamp"
)
PRODUCT_FIELDS = "Id, Name, ProductCode, Family, Description, SystemModstamp"


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v not in (None, "")}


def account(row: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "source_id": row["Id"],
            "party_type": "organization",
            "name": row.get("Name"),
            "address_line1": row.get("BillingStreet"),
            "city": row.get("BillingCity"),
            "region": row.get("BillingState"),
            "postal_code": row.get("BillingPostalCode"),
            "country": row.get("BillingCountry"),
            "phone": row.get("Phone"),
            "website": row.get("Website"),
            "parent_source_id": row.get("ParentId"),
            "account_owner": (row.get("Owner") or {}).get("Name"),
            "updated_at": row.get("SystemModstamp"),
        }
    )


def product(row: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "source_id": row["Id"],
            "name": row.get("Name"),
            "code": row.get("ProductCode"),
            "category": row.get("Family"),
            "description": row.get("Description"),
            "updated_at": row.get("SystemModstamp"),
        }
    )


def account_writeback(golden_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The hub's golden ID and the ERP-owned credit facts a sales rep should see on the account."""
    return {
        GOLDEN_FIELD: golden_id,
        "MDM_Credit_Hold__c": bool(attributes.get("credit_hold", False)),
        "MDM_Payment_Status__c": attributes.get("payment_status"),
    }
