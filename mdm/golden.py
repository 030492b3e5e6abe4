"""Golden record lifecycle: create, attach and detach source records, rebuild, merge, split.

Every change bumps the golden record's version, is kept in its history with who and why, and writes
an outbox event in the same transaction (invariant 6), so a change and its event commit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from .choices import GoldenStatus
from .models import GoldenRecord, OutboxEvent, SourceRecord, SurvivorshipRule
from .survivorship import Member, display_name, survive


def _rules(domain: str) -> dict[str, tuple[str, list[str]]]:
    return {r.attribute: (r.rule, r.ranking) for r in SurvivorshipRule.objects.filter(domain=domain)}


def _members(golden: GoldenRecord) -> list[Member]:
    records = golden.source_records.select_related("system")
    return [
        Member(
            record_id=r.pk,
            system=r.system.code,
            system_kind=r.system.kind,
            trust=r.system.trust_for(r.domain),
            updated_at=r.source_updated_at,
            attributes=r.attributes,
        )
        for r in records
    ]


def emit(golden: GoldenRecord, kind: str, payload: dict[str, Any] | None = None) -> OutboxEvent:
    """Write the outbox event for a change of `golden` at its current version."""
    return OutboxEvent.objects.create(
        golden=golden,
        domain=golden.domain,
        kind=kind,
        version=golden.version,
        payload={"golden_id": str(golden.id), "domain": golden.domain, **(payload or {})},
    )


def _save(golden: GoldenRecord, reason: str, user: Any) -> None:
    golden._change_reason = reason  # read by django-simple-history for the history row
    if user is not None:
        golden._history_user = user
    golden.save()


def create_golden(
    domain: str, records: Iterable[SourceRecord], *, reason: str, user: Any = None
) -> GoldenRecord:
    """A new golden record holding `records`."""
    golden = GoldenRecord(domain=domain)
    _save(golden, reason, user)
    link_records(golden, records, reason=reason, user=user)
    rebuild(golden, reason=reason, user=user, created=True)
    return golden


def link_records(
    golden: GoldenRecord, records: Iterable[SourceRecord], *, reason: str, user: Any = None
) -> None:
    """Point the cross-reference of `records` at `golden` (history kept per record)."""
    for record in records:
        if record.golden_id == golden.pk:
            continue
        record.golden = golden
        record._change_reason = reason
        if user is not None:
            record._history_user = user
        record.save(update_fields=["golden", "updated_at"])


# Per domain: the golden relation a source reference feeds, (relation, id attribute, system attribute).
RELATIONS: dict[str, tuple[str, str, str, str]] = {
    "customer": ("parent", "customer", "parent_source_id", ""),
    "contract": ("customer", "customer", "customer_source_id", "customer_system"),
    "entitlement": ("customer", "customer", "customer_source_id", "customer_system"),
}


def _referenced(members: list[Member], domain: str, id_attr: str, system_attr: str) -> GoldenRecord | None:
    """The golden record the members' references point at (the most recent member's that resolves)."""
    for member in members:
        source_id = member.attributes.get(id_attr)
        if not source_id:
            continue
        system = (member.attributes.get(system_attr) if system_attr else None) or member.system
        record = SourceRecord.objects.filter(system__code=system, domain=domain, source_id=source_id).first()
        if record is not None and record.golden_id is not None:
            return current(record.golden_id)
    return None


def _ancestors(golden: GoldenRecord) -> set[Any]:
    seen: set[Any] = set()
    node = golden
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        node = node.parent
    return seen


def _relate(golden: GoldenRecord, members: list[Member]) -> list[str]:
    """Set the golden relation fed by source references; the names of relations that changed."""
    if golden.domain not in RELATIONS:
        return []
    relation, domain, id_attr, system_attr = RELATIONS[golden.domain]
    target = _referenced(members, domain, id_attr, system_attr)
    if relation == "parent" and target is not None and golden.pk in _ancestors(target):
        # A parent link that would close a cycle (or point at itself) is refused.
        target = None
    if getattr(golden, f"{relation}_id") == (target.pk if target else None):
        return []
    setattr(golden, relation, target)
    return [relation]


def rebuild(golden: GoldenRecord, *, reason: str, user: Any = None, created: bool = False) -> bool:
    """Recompute the golden values from the members; True when something changed."""
    members = sorted(
        _members(golden), key=lambda m: m.updated_at.timestamp() if m.updated_at else 0, reverse=True
    )
    survived = survive(golden.domain, members, _rules(golden.domain), golden.pins)
    changed = sorted(
        key
        for key in survived.attributes.keys() | golden.attributes.keys()
        if survived.attributes.get(key) != golden.attributes.get(key)
    )
    changed += _relate(golden, members)
    name = display_name(golden.domain, survived.attributes)
    if not created and not changed and survived.lineage == golden.lineage and name == golden.name:
        return False
    golden.attributes = survived.attributes
    golden.lineage = survived.lineage
    golden.name = name
    if not created:
        golden.version += 1
    _save(golden, reason, user)
    emit(golden, "created" if created else "updated", {"changed": changed, "attributes": golden.attributes})
    return True


@transaction.atomic
def merge(
    survivor: GoldenRecord, others: Iterable[GoldenRecord], *, reason: str, user: Any = None
) -> GoldenRecord:
    """Move every source record of `others` into `survivor`; the others retire, pointing at it."""
    for other in others:
        if other.pk == survivor.pk or other.is_retired:
            continue
        link_records(survivor, list(other.source_records.all()), reason=reason, user=user)
        # Anything that still points at the retired record (its retired ancestors) follows it.
        GoldenRecord.objects.filter(merged_into=other).update(merged_into=survivor)
        GoldenRecord.objects.filter(customer=other).update(customer=survivor)
        GoldenRecord.objects.filter(parent=other).exclude(pk=survivor.pk).update(parent=survivor)
        other.status = GoldenStatus.RETIRED
        other.merged_into = survivor
        other.version += 1
        _save(other, reason, user)
        emit(other, "retired", {"survivor_id": str(survivor.pk)})
        survivor.version += 1
        _save(survivor, reason, user)
        emit(survivor, "merged", {"merged_id": str(other.pk)})
    rebuild(survivor, reason=reason, user=user)
    return survivor


@transaction.atomic
def split(record: SourceRecord, *, reason: str, user: Any = None) -> GoldenRecord:
    """Take `record` out of its golden record into a new one with a new golden ID."""
    old = record.golden
    golden = create_golden(record.domain, [record], reason=reason, user=user)
    if old is not None:
        old.version += 1
        _save(old, reason, user)
        emit(old, "split", {"record": record.pk, "new_golden_id": str(golden.pk)})
        rebuild(old, reason=reason, user=user)
    return golden


def current(golden_id: Any) -> GoldenRecord | None:
    """The golden record for an ID, following retired IDs to their survivor."""
    golden = GoldenRecord.objects.filter(pk=golden_id).first()
    seen = set()
    while golden is not None and golden.is_retired and golden.merged_into_id and golden.pk not in seen:
        seen.add(golden.pk)
        golden = golden.merged_into
    return golden
