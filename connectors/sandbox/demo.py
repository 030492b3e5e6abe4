"""Demo data for the stand-ins: the companies of the hub's demo (mdm/demo/*.csv), entered the way each
system would hold them — different spellings and identifiers per system, a duplicate inside a system, a
subsidiary (Fabrikam UK under Fabrikam), and a customer on credit hold (Contoso, overdue in the ERP)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .netsuite import NetSuiteSandbox
    from .salesforce import SalesforceSandbox
    from .stripe import StripeSandbox
    from .zendesk import ZendeskSandbox


def _ts(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def seed_stripe(sandbox: StripeSandbox) -> None:
    """Billing: legal-ish names and tax IDs, and Contoso entered twice (same billing e-mail)."""
    prices = [
        ("price_cpp_annual", "prod_cpp", "plan_cpp_annual", 120000, "year"),
        ("price_support_premium", "prod_sup", "plan_support_premium", 24000, "year"),
    ]
    for pid, product, lookup, amount, interval in prices:
        sandbox.put(
            "prices",
            {
                "id": pid,
                "object": "price",
                "product": product,
                "lookup_key": lookup,
                "currency": "usd",
                "unit_amount": amount,
                "recurring": {"interval": interval, "interval_count": 1},
                "type": "recurring",
                "active": True,
                "created": _ts("2026-06-02"),
                "metadata": {},
            },
            event="price.created",
        )
    for pid, name, default_price in [
        ("prod_cpp", "Cloud Platform Pro (annual)", "price_cpp_annual"),
        ("prod_sup", "Premium Support", "price_support_premium"),
    ]:
        sandbox.put(
            "products",
            {
                "id": pid,
                "object": "product",
                "name": name,
                "description": None,
                "active": True,
                "default_price": default_price,
                "created": _ts("2026-06-02"),
                "updated": _ts("2026-06-02"),
                "metadata": {},
            },
            event="product.created",
        )
    customers: list[dict[str, Any]] = [
        {
            "id": "cus_N0rthw1nd",
            "name": "Northwind Traders Inc",
            "email": "billing@northwind-traders.com",
            "address": {"line1": "1 Market St", "city": "Seattle", "postal_code": "98101", "country": "US"},
            "_tax_ids": [{"type": "us_ein", "value": "91-1234567"}],
        },
        {
            "id": "cus_C0nt0s0",
            "name": "Contoso GmbH",
            "email": "billing@contoso.de",
            "address": {"city": "Berlin", "postal_code": "10115", "country": "DE"},
            "_tax_ids": [{"type": "eu_vat", "value": "DE136695976"}],
        },
        # The duplicate: a second customer created by hand for the same company.
        {
            "id": "cus_C0nt0s0dup",
            "name": "CONTOSO GMBH",
            "email": "billing@contoso.de",
            "address": {"city": "Berlin", "country": "DE"},
            "_tax_ids": [],
        },
        {
            "id": "cus_Fabr1kam",
            "name": "Fabrikam Inc.",
            "email": "billing@fabrikam.com",
            "address": {"city": "San Francisco", "country": "US"},
            "_tax_ids": [{"type": "us_ein", "value": "94-7654321"}],
        },
    ]
    for customer in customers:
        sandbox.put(
            "customers",
            {
                "object": "customer",
                "phone": None,
                "description": None,
                "created": _ts("2026-01-01"),
                "metadata": {},
                "livemode": False,
                **customer,
            },
            event="customer.created",
        )
    subscriptions = [
        (
            "sub_north1",
            "cus_N0rthw1nd",
            ["price_cpp_annual", "price_support_premium"],
            "2026-01-01",
            "2026-12-31",
            "active",
        ),
        (
            "sub_conto1",
            "cus_C0nt0s0",
            ["price_cpp_annual", "price_support_premium"],
            "2026-03-01",
            "2027-02-28",
            "active",
        ),
        ("sub_fabri1", "cus_Fabr1kam", ["price_cpp_annual"], "2025-01-01", "2025-12-31", "canceled"),
    ]
    for sid, customer, price_ids, start, end, status in subscriptions:
        items = [
            {
                "id": f"si_{sid[4:]}{n}",
                "object": "subscription_item",
                "price": sandbox.store["prices"][p],
                "quantity": 1,
                "current_period_start": _ts(start),
                "current_period_end": _ts(end),
            }
            for n, p in enumerate(price_ids)
        ]
        sandbox.put(
            "subscriptions",
            {
                "id": sid,
                "object": "subscription",
                "customer": customer,
                "status": status,
                "start_date": _ts(start),
                "created": _ts(start),
                "cancel_at": None,
                "ended_at": _ts(end) if status == "canceled" else None,
                "items": {"object": "list", "data": items, "has_more": False},
                "metadata": {},
            },
            event="customer.subscription.created",
        )


def seed_salesforce(sandbox: SalesforceSandbox) -> None:
    """CRM: trading names, owners and websites; Northwind entered twice; Fabrikam UK under Fabrikam."""
    accounts = [
        (
            "001A000001",
            "Northwind Traders",
            "1 Market St",
            "Seattle",
            "WA",
            "98101",
            "United States",
            "+1 (206) 555-0100",
            "https://www.northwind-traders.com",
            "Dana Scully",
            None,
        ),
        (
            "001A000005",
            "Northwind Traders Inc.",
            "1 Market Street",
            "Seattle",
            "WA",
            "98101",
            "USA",
            "206-555-0100",
            "northwind-traders.com",
            "Fox Mulder",
            None,
        ),
        (
            "001A000002",
            "Contoso",
            "Hauptstr. 5",
            "Berlin",
            None,
            "10115",
            "Germany",
            "+49 30 1234567",
            "contoso.de",
            "Fox Mulder",
            None,
        ),
        (
            "001A000003",
            "Fabrikam Inc",
            "200 Mission Street",
            "San Francisco",
            "CA",
            "94105",
            "USA",
            "415-555-0199",
            "www.fabrikam.com",
            "Dana Scully",
            None,
        ),
        (
            "001A000004",
            "Fabrikam UK",
            "10 Downing Rd",
            "London",
            None,
            "SW1A 2AA",
            "UK",
            "020 7946 0018",
            "www.fabrikam.com",
            "Walter Skinner",
            "001A000003",
        ),
    ]
    for oid, name, street, city, state, postal, country, phone, web, owner, parent in accounts:
        sandbox.put(
            "Account",
            {
                "Id": oid,
                "Name": name,
                "BillingStreet": street,
                "BillingCity": city,
                "BillingState": state,
                "BillingPostalCode": postal,
                "BillingCountry": country,
                "Phone": phone,
                "Website": web,
                "OwnerName": owner,
                "ParentId": parent,
                "Type": "Customer",
                "MDM_Golden_Id__c": None,
            },
        )
    sandbox.put(
        "Product2",
        {
            "Id": "01t000CPP",
            "Name": "Cloud Platform Pro",
            "ProductCode": "CRM-CPP",
            "Family": "Software",
            "Description": None,
            "IsActive": True,
        },
    )


def seed_zendesk(sandbox: ZendeskSandbox) -> None:
    """Support desk: short names and support e-mails only, and a second Northwind organization."""
    for minutes, (oid, name, domain) in enumerate(
        [
            (3600001, "Northwind", "northwind-traders.com"),
            (3600002, "Contoso", "contoso.de"),
            (3600003, "Fabrikam", "fabrikam.com"),
            (3600004, "Northwind Traders (EMEA support)", "northwind-traders.com"),
        ]
    ):
        at = sandbox.clock.now() - dt.timedelta(hours=2) + dt.timedelta(minutes=minutes)
        sandbox.put_org({"id": oid, "name": name, "domain_names": [domain]}, at=at)
    for uid, name, email, org in [
        (9100001, "Ann Helper", "help@northwind-traders.com", 3600001),
        (9100002, "Jens Admin", "it@contoso.de", 3600002),
    ]:
        now = sandbox.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        sandbox.users[uid] = {
            "id": uid,
            "name": name,
            "email": email,
            "organization_id": org,
            "role": "end-user",
            "phone": None,
            "external_id": None,
            "created_at": now,
            "updated_at": now,
        }


def seed_netsuite(sandbox: NetSuiteSandbox) -> None:
    """ERP: legal names and tax IDs, the hierarchy (Fabrikam UK under Fabrikam), Contoso on credit hold
    with an overdue balance, and the item catalogue with its SKUs."""
    at = sandbox.clock.now() - dt.timedelta(hours=3)
    customers = [
        (100200, "NORTHWIND TRADERS", "Northwind Traders Incorporated", "91-1234567", None, "AUTO", "0.00",
         "northwind-traders.com"),
        (100300, "Contoso GmbH", "Contoso Handelsgesellschaft mbH", "DE136695976", None, "ON", "12500.00",
         "contoso.de"),
        (100400, "Fabrikam", "Fabrikam Incorporated", "94-7654321", None, "AUTO", "0.00", "fabrikam.com"),
        (100410, "Fabrikam UK Ltd", "Fabrikam UK Limited", "GB980780684", 100400, "AUTO", "0.00",
         "fabrikam.co.uk"),
    ]  # fmt: skip
    for n, (rid, name, legal, vat, parent, hold, overdue, url) in enumerate(customers):
        sandbox.put(
            "customer",
            {
                "id": rid,
                "entityid": f"C{rid}",
                "companyname": name,
                "legalname": legal,
                "isperson": False,
                "vatregnumber": vat,
                "parent": parent,
                "creditholdoverride": hold,
                "overduebalance": overdue,
                "email": None,
                "phone": None,
                "url": url,
                "externalid": None,
            },
            at=at + dt.timedelta(minutes=n),
        )
    for n, (rid, sku, name, kind) in enumerate(
        [
            (100, "SKU-CPP-100", "Cloud Platform Pro", "NonInvtPart"),
            (200, "SKU-SUP-200", "Premium Support", "Service"),
        ]
    ):
        sandbox.put(
            "item",
            {"id": rid, "itemid": sku, "displayname": name, "itemtype": kind, "description": None},
            at=at + dt.timedelta(minutes=n),
        )
