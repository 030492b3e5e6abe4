"""Entitlement eligibility: may this customer receive this support now, and if not, why.

Derived, never entered: from the entitlement's own dates, its contract's status and dates, and the
customer's standing in the ERP (credit hold, overdue payment). The first rule that fails decides,
in the order a support agent would want to hear it: the customer's standing, then the dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

ACTIVE = "active"
EXPIRED = "expired"
NOT_STARTED = "not_started"
SUSPENDED = "suspended"

ENDED_CONTRACT = {"cancelled", "canceled", "expired", "terminated", "ended", "incomplete_expired"}
UNPAID_CONTRACT = {"past_due", "unpaid"}


def _day(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def derive(
    entitlement: Mapping[str, Any],
    *,
    contract: Mapping[str, Any] | None,
    customer: Mapping[str, Any] | None,
    today: dt.date,
) -> dict[str, Any]:
    """`{"status", "eligible", "reason", "as_of"}` for one entitlement on `today`."""

    def answer(status: str, reason: str) -> dict[str, Any]:
        return {"status": status, "eligible": status == ACTIVE, "reason": reason, "as_of": today.isoformat()}

    customer = customer or {}
    contract = contract or {}
    if customer.get("credit_hold") is True:
        return answer(SUSPENDED, "credit hold")
    if customer.get("payment_status") == "overdue":
        return answer(SUSPENDED, "overdue payment")
    status = str(contract.get("status") or "").lower()
    if status in UNPAID_CONTRACT:
        return answer(SUSPENDED, f"contract {status.replace('_', ' ')}")
    start = _day(entitlement.get("start_date")) or _day(contract.get("start_date"))
    end = _day(entitlement.get("end_date")) or _day(contract.get("end_date"))
    contract_end = _day(contract.get("end_date"))
    if start and today < start:
        return answer(NOT_STARTED, f"starts on {start.isoformat()}")
    if end and today > end:
        return answer(EXPIRED, f"ended on {end.isoformat()}")
    if contract_end and today > contract_end:
        return answer(EXPIRED, f"contract ended on {contract_end.isoformat()}")
    if status in ENDED_CONTRACT:
        return answer(EXPIRED, f"contract {status}")
    return answer(ACTIVE, "active")
