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
CONTACT_FIELDS = (
    "Id, AccountId, FirstName, LastName, Email, Phone, MailingStreet, MailingCity, MailingState, "
    "MailingPostalCode, MailingCountry, SystemModstamp"
)
# `Product_Codes__c` (a multi-select picklist, `;`-separated) carries the products a Contract covers: the
# standard ContractLineItem hangs off ServiceContract, not Contract.
CONTRACT_FIELDS = (
    "Id, AccountId, ContractNumber, StartDate, EndDate, Status, ContractTerm, Product_Codes__c, "
    "SystemModstamp"
)
# The standard ServiceContractId points at a ServiceContract, which the hub does not read; `Contract__c` is
# the custom lookup to the Contract stream's records. `SLA_Level__c` and `Product_Code__c` are custom too.
ENTITLEMENT_FIELDS = (
    "Id, Name, AccountId, Contract__c, StartDate, EndDate, Status, SLA_Level__c, Product_Code__c, "
    "SystemModstamp"
)


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


def contact(row: dict[str, Any]) -> dict[str, Any] | None:
    """A Contact as an individual customer, or None when it is a person at an account.

    A Contact with an AccountId is someone who works at a customer, not a customer: the canonical model has
    no contact-person entity, and `parent_source_id` means a corporate parent, so such a Contact is left
    out (the connector counts it as read, not ingested). Only a private Contact (no AccountId) is a party
    of its own and becomes an individual customer. A person account's Contact also has an AccountId, its
    own Account, which the Account stream already reads.
    """
    if row.get("AccountId"):
        return None
    given, family = row.get("FirstName"), row.get("LastName")
    return _clean(
        {
            "source_id": row["Id"],
            "party_type": "individual",
            "name": " ".join(part for part in (given, family) if part) or None,
            "given_name": given,
            "family_name": family,
            "email": row.get("Email"),
            "phone": row.get("Phone"),
            "address_line1": row.get("MailingStreet"),
            "city": row.get("MailingCity"),
            "region": row.get("MailingState"),
            "postal_code": row.get("MailingPostalCode"),
            "country": row.get("MailingCountry"),
            "updated_at": row.get("SystemModstamp"),
        }
    )


# Canonical field <- Salesforce field, for the objects that map one field to one field.
CONTRACT_MAP = {
    "customer_source_id": "AccountId",
    "product_codes": "Product_Codes__c",
    "start_date": "StartDate",
    "end_date": "EndDate",
    "status": "Status",
    "term_months": "ContractTerm",
}
ENTITLEMENT_MAP = {
    "customer_source_id": "AccountId",
    "contract_source_id": "Contract__c",
    "product_code": "Product_Code__c",
    "sla_level": "SLA_Level__c",
    "start_date": "StartDate",
    "end_date": "EndDate",
    "status": "Status",
}


def _by_map(row: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    mapped = {name: row.get(sf_name) for name, sf_name in fields.items()}
    return _clean({"source_id": row["Id"], **mapped, "updated_at": row.get("SystemModstamp")})


def contract(row: dict[str, Any]) -> dict[str, Any]:
    return _by_map(row, CONTRACT_MAP)


def entitlement(row: dict[str, Any]) -> dict[str, Any]:
    return _by_map(row, ENTITLEMENT_MAP)


def account_writeback(golden_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The hub's golden ID and the ERP-owned credit facts a sales rep should see on the account."""
    return {
        GOLDEN_FIELD: golden_id,
        "MDM_Credit_Hold__c": bool(attributes.get("credit_hold", False)),
        "MDM_Payment_Status__c": attributes.get("payment_status"),
    }
