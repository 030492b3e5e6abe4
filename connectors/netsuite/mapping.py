"""Field mapping between NetSuite records (SuiteQL columns, lower case) and canonical records.

`custentity_mdm_golden_id` and `externalid` are the hub's and are not read back (echo prevention).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

GOLDEN_FIELD = "custentity_mdm_golden_id"
# SuiteQL answers dates in the user's display format; TO_CHAR gives the full time the cursor needs.
MODIFIED = "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS modified"
CUSTOMER_COLUMNS = (
    "id, entityid, companyname, legalname, isperson, firstname, lastname, email, phone, url, vatregnumber, "
    f"parent, creditholdoverride, overduebalance, {MODIFIED}"
)
ITEM_COLUMNS = f"id, itemid, displayname, description, itemtype, {MODIFIED}"


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v not in (None, "")}


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except InvalidOperation:
        return Decimal(0)


def customer(row: dict[str, Any]) -> dict[str, Any]:
    """A customer; `creditholdoverride` ON is a credit hold, a positive overdue balance is overdue."""
    person = row.get("isperson") == "T"
    overdue = _amount(row.get("overduebalance"))
    return _clean(
        {
            "source_id": str(row["id"]),
            "party_type": "individual" if person else "organization",
            "name": row.get("companyname") or row.get("entityid"),
            "legal_name": row.get("legalname"),
            "given_name": row.get("firstname") if person else None,
            "family_name": row.get("lastname") if person else None,
            "email": row.get("email"),
            "phone": row.get("phone"),
            "website": row.get("url"),
            "tax_id": row.get("vatregnumber"),
            "parent_source_id": str(row["parent"]) if row.get("parent") else None,
            "credit_hold": row.get("creditholdoverride") == "ON",
            "overdue_balance": str(overdue),
            "payment_status": "overdue" if overdue > 0 else "current",
            "updated_at": f"{row['modified']}Z" if row.get("modified") else None,
        }
    )


def item(row: dict[str, Any]) -> dict[str, Any]:
    return _clean(
        {
            "source_id": str(row["id"]),
            "name": row.get("displayname") or row.get("itemid"),
            "code": row.get("itemid"),
            "category": row.get("itemtype"),
            "description": row.get("description"),
            "updated_at": f"{row['modified']}Z" if row.get("modified") else None,
        }
    )


def customer_writeback(golden_id: str) -> dict[str, Any]:
    """The golden ID on the ERP's own records; finance owns everything else there."""
    return {GOLDEN_FIELD: golden_id}


def customer_create(golden_id: str, attributes: dict[str, Any], name: str) -> dict[str, Any]:
    """A new customer for a golden record the ERP does not hold (upserted by external ID)."""
    return _clean(
        {
            "companyName": name or golden_id,
            "email": attributes.get("email"),
            "phone": attributes.get("phone"),
            "url": attributes.get("website"),
            "vatRegNumber": attributes.get("tax_id"),
            GOLDEN_FIELD: golden_id,
        }
    )
