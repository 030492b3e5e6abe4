"""Golden record lifecycle: create, attach and detach source records, rebuild, merge, split.

Every change bumps the golden record's version, is kept in its history with who and why, and writes
an outbox event in the same transaction (invariant 6), so a change and its event commit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import eligibility
from .choices import GoldenStatus
from .models import GoldenRecord, OutboxEvent, SourceRecord, SurvivorshipRule
from .survivorship import Member, display_name, survive


def _rules(domain: str) -> dict[str, tuple[str, list[str]]]:
    return {r.attribute: (r.rule, r.ranking) for r in SurvivorshipRule.objects.filter(domain=domain)}


def _member(record: SourceRecord) -> Member:
    return Member(
        record_id=record.pk,
        system=record.system.code,
        system_kind=record.system.kind,
        trust=record.system.trust_for(record.domain),
        updated_at=record.source_updated_at,
        attributes=record.attributes,
    )


def _members(golden_ids: Iterable[Any]) -> dict[Any, list[Member]]:
    """Members of each golden record, in one query."""
    grouped: dict[Any, list[Member]] = {}
    for record in SourceRecord.objects.filter(golden_id__in=list(golden_ids)).select_related("system"):
        grouped.setdefault(record.golden_id, []).append(_member(record))
    return grouped


def _event(golden: GoldenRecord, kind: str, payload: dict[str, Any] | None = None) -> OutboxEvent:
    return OutboxEvent(
        golden=golden,
        domain=golden.domain,
        kind=kind,
        version=golden.version,
        payload={"golden_id": str(golden.id), "domain": golden.domain, **(payload or {})},
    )


def emit(golden: GoldenRecord, kind: str, payload: dict[str, Any] | None = None) -> OutboxEvent:
    """Write the outbox event for a change of `golden` at its current version."""
    event = _event(golden, kind, payload)
    event.save()
    return event


def _save(golden: GoldenRecord, reason: str, user: Any) -> None:
    golden._change_reason = reason  # read by django-simple-history for the history row
    if user is not None:
        golden._history_user = user
    golden.save()


def create_golden(
    domain: str, records: Iterable[SourceRecord], *, reason: str, user: Any = None
) -> GoldenRecord:
    """A new golden record holding `records`."""
    return create_many(domain, [list(records)], reason=reason, user=user)[0]


def create_many(
    domain: str, groups: list[list[SourceRecord]], *, reason: str, user: Any = None
) -> list[GoldenRecord]:
    """One new golden record per group of source records, written in bulk."""
    rules = _rules(domain)
    goldens: list[GoldenRecord] = []
    events: list[OutboxEvent] = []
    placed: list[SourceRecord] = []
    for records in groups:
        golden = GoldenRecord(domain=domain)
        events.extend(_survive_into(golden, [_member(r) for r in records], rules, created=True))
        goldens.append(golden)
        for record in records:
            record.golden = golden
            placed.append(record)
    bulk_create_with_history(goldens, GoldenRecord, default_user=user, default_change_reason=reason)
    OutboxEvent.objects.bulk_create(events)
    _write_xref(placed, reason, user)
    if domain == "contract":
        _refresh_review_impact(g.customer_id for g in goldens)
    return goldens


def _refresh_review_impact(customer_ids: Iterable[Any]) -> None:
    """Review tasks over these customers' records re-rank: their contracts opened, closed or moved."""
    from matching.services import refresh_review_impact  # matching builds on this module

    refresh_review_impact(customer_ids)


def _write_xref(records: list[SourceRecord], reason: str, user: Any) -> None:
    """Save the golden of each record, with a history row each.

    One UPDATE per record through executemany (pipelined on PostgreSQL): an ORM update per golden
    record took 15 of a batch run's 100 s at 24,705 records, and Django's bulk_update builds a CASE
    per row and costs more still.
    """
    if not records:
        return
    now = timezone.now()
    golden, updated = SourceRecord._meta.get_field("golden"), SourceRecord._meta.get_field("updated_at")
    for record in records:
        record.updated_at = now
    stamp = updated.get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {SourceRecord._meta.db_table} SET golden_id = %s, updated_at = %s WHERE id = %s",
            [(golden.get_db_prep_value(r.golden_id, connection), stamp, r.pk) for r in records],
        )
    SourceRecord.history.bulk_history_create(
        records, update=True, default_user=user, default_change_reason=reason
    )


def link_records(
    golden: GoldenRecord, records: Iterable[SourceRecord], *, reason: str, user: Any = None
) -> None:
    """Point the cross-reference of `records` at `golden` (history kept per record)."""
    moving = [r for r in records if r.golden_id != golden.pk]
    for record in moving:
        record.golden = golden
    _write_xref(moving, reason, user)


# Per domain: the golden relations that source references feed:
# (where: a foreign key or "attributes.<name>", referenced domain, id attribute, system attribute).
RELATIONS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "customer": (("parent", "customer", "parent_source_id", ""),),
    "contract": (("customer", "customer", "customer_source_id", "customer_system"),),
    "entitlement": (
        ("customer", "customer", "customer_source_id", "customer_system"),
        ("attributes.contract_id", "contract", "contract_source_id", "contract_system"),
    ),
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


def _relate(golden: GoldenRecord, attributes: dict[str, Any], members: list[Member]) -> list[str]:
    """Set the golden relations fed by source references; the names of those that changed."""
    changed = []
    for where, domain, id_attr, system_attr in RELATIONS.get(golden.domain, ()):
        target = _referenced(members, domain, id_attr, system_attr)
        if where == "parent" and target is not None and golden.pk in _ancestors(target):
            # A parent link that would close a cycle (or point at itself) is refused.
            target = None
        if where.startswith("attributes."):
            if target is not None:
                attributes[where.split(".", 1)[1]] = str(target.pk)
            continue
        if getattr(golden, f"{where}_id") != (target.pk if target else None):
            setattr(golden, where, target)
            changed.append(where)
    return changed


def _derive(
    golden: GoldenRecord, attributes: dict[str, Any], lineage: dict[str, Any], members: list[Member]
) -> None:
    """Derived attributes: a product's code in each system; an entitlement's eligibility."""
    if golden.domain == "product":
        codes = {m.system: m.attributes["code"] for m in reversed(members) if m.attributes.get("code")}
        if codes:
            attributes["codes"] = dict(sorted(codes.items()))
            lineage["codes"] = {"rule": "derived"}
    if golden.domain != "entitlement":
        return
    contract = GoldenRecord.objects.filter(pk=attributes.get("contract_id")).first()
    attributes["eligibility"] = eligibility.derive(
        attributes,
        contract=contract.attributes if contract else None,
        customer=golden.customer.attributes if golden.customer_id else None,
        today=timezone.localdate(),
    )
    lineage["eligibility"] = {"rule": "derived"}


def rebuild(golden: GoldenRecord, *, reason: str, user: Any = None) -> bool:
    """Recompute the golden values from the members; True when something changed."""
    return bool(_rebuild_objects([golden], reason=reason, user=user))


def rebuild_many(golden_ids: Iterable[Any], *, reason: str, user: Any = None) -> int:
    """Recompute many golden records in bulk; how many changed."""
    goldens = list(GoldenRecord.objects.filter(pk__in=list(golden_ids), status=GoldenStatus.ACTIVE))
    return len(_rebuild_objects(goldens, reason=reason, user=user))


# Changes of these customer or contract attributes change the eligibility of dependent entitlements.
ELIGIBILITY_INPUTS = {"credit_hold", "payment_status", "status", "start_date", "end_date"}


def _survive_into(
    golden: GoldenRecord, members: list[Member], rules: dict[str, tuple[str, list[str]]], *, created: bool
) -> list[OutboxEvent]:
    """Apply survivorship to `golden` in memory; the events to write (none if nothing changed)."""
    members.sort(key=lambda m: m.updated_at.timestamp() if m.updated_at else 0, reverse=True)
    survived = survive(golden.domain, members, rules, golden.pins)
    relations = _relate(golden, survived.attributes, members)
    _derive(golden, survived.attributes, survived.lineage, members)
    changed = sorted(
        key
        for key in survived.attributes.keys() | golden.attributes.keys()
        if survived.attributes.get(key) != golden.attributes.get(key)
    )
    changed += relations
    customer = golden.customer.name if golden.customer_id else ""
    name = display_name(golden.domain, survived.attributes, customer)
    if not created and not changed and survived.lineage == golden.lineage and name == golden.name:
        return []
    before = (golden.attributes.get("eligibility") or {}).get("status")
    golden.attributes = survived.attributes
    golden.lineage = survived.lineage
    golden.name = name
    if not created:
        golden.version += 1
    golden.updated_at = timezone.now()
    golden.changed_attributes = changed
    events = [
        _event(
            golden, "created" if created else "updated", {"changed": changed, "attributes": golden.attributes}
        )
    ]
    after = (golden.attributes.get("eligibility") or {}).get("status")
    if not created and before != after:
        events.append(
            _event(golden, "eligibility_changed", {"from": before, **golden.attributes["eligibility"]})
        )
    return events


def _dependents(changed: list[GoldenRecord]) -> list[Any]:
    """Entitlements whose eligibility may move because a customer or contract they rest on changed."""
    touched = [g for g in changed if ELIGIBILITY_INPUTS & set(getattr(g, "changed_attributes", ()))]
    customers = [g.pk for g in touched if g.domain == "customer"]
    contracts = [str(g.pk) for g in touched if g.domain == "contract"]
    if not customers and not contracts:
        return []
    rows = GoldenRecord.objects.filter(domain="entitlement", status=GoldenStatus.ACTIVE)
    rows = rows.filter(customer__in=customers) | rows.filter(attributes__contract_id__in=contracts)
    return list(rows.values_list("pk", flat=True))


def _rebuild_objects(goldens: list[GoldenRecord], *, reason: str, user: Any = None) -> list[GoldenRecord]:
    """Survivorship for each golden record; changed ones are saved with history and their events."""
    members_of = _members(g.pk for g in goldens)
    rules = {domain: _rules(domain) for domain in {g.domain for g in goldens}}
    customer_before = {g.pk: g.customer_id for g in goldens if g.domain == "contract"}
    changed: list[GoldenRecord] = []
    events: list[OutboxEvent] = []
    for golden in goldens:
        written = _survive_into(golden, members_of.get(golden.pk, []), rules[golden.domain], created=False)
        if written:
            changed.append(golden)
            events.extend(written)
    for golden in changed:
        GoldenRecord.objects.filter(pk=golden.pk).update(
            **{
                f: getattr(golden, f)
                for f in ("attributes", "lineage", "pins", "name", "version", "updated_at")
            },
            parent_id=golden.parent_id,
            customer_id=golden.customer_id,
        )
    if changed:
        GoldenRecord.history.bulk_history_create(
            changed, update=True, default_user=user, default_change_reason=reason
        )
        OutboxEvent.objects.bulk_create(events)
        contracts = [g for g in changed if g.domain == "contract"]
        if contracts:
            _refresh_review_impact(
                {g.customer_id for g in contracts} | {customer_before[g.pk] for g in contracts}
            )
        dependents = _dependents(changed)
        if dependents:
            rebuild_many(dependents, reason=f"{reason} (eligibility inputs changed)", user=user)
    return changed


@transaction.atomic
def merge(
    survivor: GoldenRecord, others: Iterable[GoldenRecord], *, reason: str, user: Any = None
) -> GoldenRecord:
    """Move every source record of `others` into `survivor`; the others retire, pointing at it."""
    # Fresh rows, each once: a caller's objects may be stale (rebuilt or retired meanwhile), and a
    # stale version would write a second event under a version already used.
    survivor.refresh_from_db()
    seen = {survivor.pk}
    for other in others:
        if other.pk in seen:
            continue
        seen.add(other.pk)
        other.refresh_from_db()
        if other.is_retired:
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
    # The survivor took over the others' records and contracts.
    _refresh_review_impact([survivor.pk])
    return survivor


@transaction.atomic
def split(record: SourceRecord, *, reason: str, user: Any = None) -> GoldenRecord:
    """Take `record` out of its golden record into a new one with a new golden ID."""
    old = record.golden
    golden = create_golden(record.domain, [record], reason=reason, user=user)
    if old is not None:
        old.refresh_from_db()
        old.version += 1
        _save(old, reason, user)
        emit(old, "split", {"record": record.pk, "new_golden_id": str(golden.pk)})
        rebuild(old, reason=reason, user=user)
        # Contracts, entitlements and subsidiaries that name the split-off record follow it.
        dependents = GoldenRecord.objects.filter(customer=old) | GoldenRecord.objects.filter(parent=old)
        rebuild_many(list(dependents.values_list("pk", flat=True)), reason=reason, user=user)
    # The record's tasks now rank by the new golden record's contracts.
    _refresh_review_impact([golden.pk])
    return golden


def current(golden_id: Any) -> GoldenRecord | None:
    """The golden record for an ID, following retired IDs to their survivor."""
    golden = GoldenRecord.objects.filter(pk=golden_id).first()
    seen = set()
    while golden is not None and golden.is_retired and golden.merged_into_id and golden.pk not in seen:
        seen.add(golden.pk)
        golden = golden.merged_into
    return golden
