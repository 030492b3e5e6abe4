"""Survivorship: which value of which source record becomes the golden value of each attribute.

Per attribute, in order: a steward's pin; else the attribute's rule — `owner` (the best-ranked owning
system that has a value, most recent within it), `most_recent` (by the source's own modification
time), `most_complete` (the longest value), `most_frequent` (the value most sources agree on, after
normalisation), or `union` for multi-valued attributes (de-duplicated after normalisation). Ties fall
to the more recent record, then the more trusted system, then the lower record ID, so the result is
deterministic. Every value carries its lineage: the source record and the rule that produced it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from matching import normalize

from .schemas import SCHEMAS, is_blank

# Attributes that are lists in the golden record, unioned over sources.
MULTI_VALUED = {"email", "phone", "address"}
ADDRESS_PARTS = ("address_line1", "address_line2", "city", "region", "postal_code", "country")
# Never survive as attributes: identity of a source row, or folded into the address list.
NOT_SURVIVED = {"source_id", "updated_at", "address_role", *ADDRESS_PARTS}

# The defaults an administrator starts from (seeded as SurvivorshipRule rows by a data migration).
DEFAULT_RULES: dict[str, dict[str, tuple[str, list[str]]]] = {
    "customer": {
        "legal_name": ("owner", ["erp", "billing", "crm"]),
        "tax_id": ("owner", ["erp", "billing", "crm"]),
        "payment_status": ("owner", ["erp", "billing"]),
        "credit_hold": ("owner", ["erp"]),
        "overdue_balance": ("owner", ["erp"]),
        "parent_source_id": ("owner", ["erp", "crm"]),
        "name": ("owner", ["crm", "erp", "billing", "support"]),
        "account_owner": ("owner", ["crm"]),
        "website": ("owner", ["crm", "erp", "billing", "support"]),
        "party_type": ("most_frequent", []),
    },
    "product": {
        "name": ("owner", ["erp", "billing", "crm", "support"]),
        "category": ("owner", ["erp", "crm"]),
        "description": ("most_complete", []),
    },
    "contract": {
        "start_date": ("owner", ["billing", "erp", "crm"]),
        "end_date": ("owner", ["billing", "erp", "crm"]),
        "status": ("owner", ["billing", "erp", "crm"]),
        "term_months": ("owner", ["billing", "erp", "crm"]),
    },
    "entitlement": {
        "sla_level": ("owner", ["support", "billing", "crm"]),
        "start_date": ("owner", ["billing", "support", "crm"]),
        "end_date": ("owner", ["billing", "support", "crm"]),
        "status": ("owner", ["support", "billing"]),
    },
}


@dataclass(frozen=True)
class Member:
    """A source record as survivorship sees it."""

    record_id: int
    system: str
    system_kind: str
    trust: float
    updated_at: dt.datetime | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Survived:
    attributes: dict[str, Any]
    lineage: dict[str, Any]


def _recency(member: Member) -> tuple[float, float, int]:
    stamp = member.updated_at.timestamp() if member.updated_at else 0.0
    return (stamp, member.trust, -member.record_id)


def _normal(value: Any) -> str:
    return " ".join(str(value).lower().split())


def _union_key(attribute: str, value: Any, country: str | None) -> str:
    """Values that are the same after normalisation count once (a phone in two formats, say)."""
    if attribute == "phone":
        return normalize.phone(str(value), normalize.country(country)) or _normal(value)
    if isinstance(value, dict):
        return _normal(sorted((k, _normal(v)) for k, v in value.items()))
    return _normal(value)


def _rank(member: Member, ranking: list[str]) -> int:
    for position, name in enumerate(ranking):
        if name in (member.system, member.system_kind):
            return position
    return len(ranking)


def _lineage(member: Member, rule: str) -> dict[str, Any]:
    return {"record": member.record_id, "system": member.system, "rule": rule}


def _address(member: Member) -> dict[str, Any] | None:
    parts = {k: member.attributes[k] for k in ADDRESS_PARTS if not is_blank(member.attributes.get(k))}
    if not parts:
        return None
    return {"role": member.attributes.get("address_role") or _default_role(member), **parts}


def _default_role(member: Member) -> str:
    # An ERP's or billing platform's address is where invoices go; the others are the main address.
    return "bill_to" if member.system_kind in ("erp", "billing") else "main"


def _values(member: Member, attribute: str) -> list[Any]:
    if attribute == "address":
        address = _address(member)
        return [address] if address else []
    value = member.attributes.get(attribute)
    return [] if is_blank(value) else [value]


def survive(
    domain: str,
    members: Iterable[Member],
    rules: Mapping[str, tuple[str, list[str]]],
    pins: Mapping[str, Any] | None = None,
) -> Survived:
    """The golden attributes and their lineage for the members of one golden record."""
    members = sorted(members, key=_recency, reverse=True)
    names = [f.name for f in SCHEMAS[domain].fields if f.name not in NOT_SURVIVED]
    if domain == "customer":
        names.append("address")
    attributes: dict[str, Any] = {}
    lineage: dict[str, Any] = {}
    for attribute in names:
        if pins and attribute in pins:
            attributes[attribute] = pins[attribute]
            lineage[attribute] = {"rule": "pin"}
            continue
        rule, ranking = rules.get(attribute, ("union" if attribute in MULTI_VALUED else "most_recent", []))
        if attribute in MULTI_VALUED:
            values, sources = _union(members, attribute)
            if values:
                attributes[attribute] = values
                lineage[attribute] = sources
            continue
        chosen = _choose(members, attribute, rule, ranking)
        if chosen is not None:
            attributes[attribute] = chosen.attributes[attribute]
            lineage[attribute] = _lineage(chosen, rule)
    return Survived(attributes, lineage)


def _choose(members: list[Member], attribute: str, rule: str, ranking: list[str]) -> Member | None:
    having = [m for m in members if not is_blank(m.attributes.get(attribute))]
    if not having:
        return None
    # `having` is most recent first, so min/max on a key below breaks ties by recency.
    if rule == "owner":
        return min(having, key=lambda m: _rank(m, ranking))
    if rule == "most_complete":
        return max(having, key=lambda m: len(str(m.attributes[attribute])))
    if rule == "most_frequent":
        counts = Counter(_normal(m.attributes[attribute]) for m in having)
        return max(having, key=lambda m: counts[_normal(m.attributes[attribute])])
    return having[0]


def _union(members: list[Member], attribute: str) -> tuple[list[Any], list[dict[str, Any]]]:
    given = [(member, value) for member in members for value in _values(member, attribute)]
    if len(given) == 1:
        # nothing to de-duplicate; normalising phone numbers for the keys took most of survivorship
        return [given[0][1]], [_lineage(given[0][0], "union")]
    seen: set[str] = set()
    values: list[Any] = []
    sources: list[dict[str, Any]] = []
    for member, value in given:
        key = _union_key(attribute, value, member.attributes.get("country"))
        if key in seen:
            continue
        seen.add(key)
        values.append(value)
        sources.append(_lineage(member, "union"))
    return values, sources


def display_name(domain: str, attributes: Mapping[str, Any], customer: str = "") -> str:
    """The name a golden record is listed under."""
    if domain == "customer" and attributes.get("party_type") == "individual" and not attributes.get("name"):
        return " ".join(filter(None, [attributes.get("given_name"), attributes.get("family_name")]))
    if domain in ("contract", "entitlement"):
        what = attributes.get("sla_level") or ", ".join(attributes.get("product_codes") or []) or domain
        period = f"{attributes.get('start_date', '?')} to {attributes.get('end_date', '?')}"
        return f"{customer or 'unknown customer'}: {what} ({period})"[:300]
    for key in ("name", "legal_name", "source_id"):
        if attributes.get(key):
            return str(attributes[key])[:300]
    return ""
