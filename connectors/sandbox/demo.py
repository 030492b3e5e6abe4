"""Demo data for the stand-ins: the companies of the hub's demo (mdm/demo/*.csv), entered the way each
system would hold them — different spellings and identifiers per system, a duplicate inside a system, a
subsidiary (Fabrikam UK under Fabrikam), and a customer on credit hold (Contoso, overdue in the ERP)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stripe import StripeSandbox


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
