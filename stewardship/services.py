"""Steward actions: the one way the console and the steward API change golden records.

Each action runs in one transaction, leaves a judgement where it settles a pair (so no later automatic
run undoes it, invariant 4) and an audit entry with who, when and why (invariant 5). Golden record
changes go through `mdm.golden`, which keeps history and writes the outbox event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from matching.models import Judgement, ReviewTask, Verdict
from mdm import golden as golden_service
from mdm.ingest import RecordOutcome, replay_quarantined
from mdm.models import AuditEntry, GoldenRecord, QuarantinedRecord, SourceRecord
from mdm.schemas import PARSERS, SCHEMAS, Invalid
from mdm.survivorship import MULTI_VALUED

# Bulk accept takes only tasks at least this likely, unless the steward asks for a stricter bar.
BULK_MIN_PROBABILITY = 0.95


class StewardError(Exception):
    """A steward action that cannot be done as asked; `code` is machine-readable."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _audit(user: Any, action: str, target: str, reason: str, detail: dict[str, Any]) -> AuditEntry:
    return AuditEntry.objects.create(user=user, action=action, target=target, reason=reason, detail=detail)


def _require_reason(reason: str, action: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise StewardError("reason_required", f"A comment is required to {action}.")
    return reason


def judge(*, domain: str, a: int, b: int, verdict: str, user: Any, reason: str) -> Judgement:
    """Record (or overwrite) the steward verdict on the pair of source records a, b."""
    left, right = sorted((a, b))
    judgement, _ = Judgement.objects.update_or_create(
        left_id=left,
        right_id=right,
        defaults={"domain": domain, "verdict": verdict, "user": user, "reason": reason},
    )
    return judgement


def _open_task(task_id: int) -> ReviewTask:
    # The row lock makes two stewards deciding the same task at once decide it once.
    task = ReviewTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise StewardError("task_not_found", "No such review task.", 404)
    if task.status != ReviewTask.Status.OPEN:
        raise StewardError("task_closed", f"This task was already {task.status}.", 409)
    return task


def _close(task: ReviewTask, status: str, user: Any) -> None:
    task.status = status
    task.decided_at = timezone.now()
    task.decided_by = user
    task.save(update_fields=["status", "decided_at", "decided_by"])


def _golden_of(record: SourceRecord) -> GoldenRecord:
    golden = golden_service.current(record.golden_id) if record.golden_id else None
    if golden is None:
        raise StewardError("not_placed", f"Source record {record.pk} belongs to no golden record yet.", 409)
    return golden


@transaction.atomic
def task_merge(*, task_id: int, user: Any, survivor_id: Any = None, reason: str = "") -> GoldenRecord:
    """Accept a review task: merge the two golden records (survivor chosen or the older) and judge a match."""
    task = _open_task(task_id)
    left = SourceRecord.objects.get(pk=task.left_id)
    right = SourceRecord.objects.get(pk=task.right_id)
    goldens = {g.pk: g for g in (_golden_of(left), _golden_of(right))}
    if survivor_id:
        survivor = next((g for pk, g in goldens.items() if str(pk) == str(survivor_id)), None)
        if survivor is None:
            raise StewardError("bad_survivor", "The survivor must be one of the task's golden records.")
    else:
        # The older golden ID is the one other systems have most likely stored already.
        survivor = min(goldens.values(), key=lambda g: g.created_at)
    others = [g for pk, g in goldens.items() if pk != survivor.pk]
    why = f"steward merge (review {task.pk})" + (f": {reason}" if reason else "")
    golden_service.merge(survivor, others, reason=why, user=user)
    judge(domain=task.domain, a=left.pk, b=right.pk, verdict=Verdict.MATCH, user=user, reason=reason)
    _close(task, ReviewTask.Status.MERGED, user)
    _audit(
        user,
        "merge",
        f"golden/{survivor.pk}",
        reason,
        {"task": task.pk, "survivor": str(survivor.pk), "retired": [str(g.pk) for g in others]},
    )
    return survivor


@transaction.atomic
def task_reject(*, task_id: int, user: Any, reason: str = "") -> ReviewTask:
    """Not a match: judge the pair no_match for good and close the task."""
    task = _open_task(task_id)
    judge(
        domain=task.domain,
        a=task.left_id,
        b=task.right_id,
        verdict=Verdict.NO_MATCH,
        user=user,
        reason=reason,
    )
    _close(task, ReviewTask.Status.REJECTED, user)
    _audit(user, "not_a_match", f"review/{task.pk}", reason, {"left": task.left_id, "right": task.right_id})
    return task


def tasks_bulk_accept(
    *,
    user: Any,
    reason: str,
    domain: str | None = None,
    min_probability: float = BULK_MIN_PROBABILITY,
    limit: int = 100,
    task_ids: Iterable[int] | None = None,
) -> list[int]:
    """Merge the clearest open tasks (probability at least `min_probability`); the IDs merged."""
    min_probability = max(min_probability, BULK_MIN_PROBABILITY)
    tasks = ReviewTask.objects.filter(status=ReviewTask.Status.OPEN, probability__gte=min_probability)
    if domain:
        tasks = tasks.filter(domain=domain)
    if task_ids is not None:
        tasks = tasks.filter(pk__in=list(task_ids))
    merged: list[int] = []
    for task_id in tasks.order_by("-probability", "pk").values_list("pk", flat=True)[:limit]:
        try:
            task_merge(task_id=task_id, user=user, reason=reason or "bulk accept")
        except StewardError:
            # An earlier merge in this batch may have closed or absorbed it; the rest still go through.
            continue
        merged.append(task_id)
    _audit(
        user, "bulk_accept", f"review/{domain or 'all'}", reason, {"tasks": merged, "min": min_probability}
    )
    return merged


@transaction.atomic
def record_split(*, record_id: int, user: Any, reason: str) -> GoldenRecord:
    """Split a source record out into a new golden record and judge it no_match against those it leaves."""
    reason = _require_reason(reason, "split a record")
    record = SourceRecord.objects.select_for_update().filter(pk=record_id).first()
    if record is None:
        raise StewardError("record_not_found", "No such source record.", 404)
    old = _golden_of(record)
    left_behind = list(old.source_records.exclude(pk=record.pk).values_list("pk", flat=True))
    if not left_behind:
        raise StewardError("alone", "This record is the only one in its golden record.", 409)
    new = golden_service.split(record, reason=f"steward split: {reason}", user=user)
    for other in left_behind:
        judge(domain=record.domain, a=record.pk, b=other, verdict=Verdict.NO_MATCH, user=user, reason=reason)
    _audit(user, "split", f"golden/{old.pk}", reason, {"record": record.pk, "new_golden": str(new.pk)})
    return new


@transaction.atomic
def record_move(*, record_id: int, target_id: Any, user: Any, reason: str) -> GoldenRecord:
    """Move a source record into another golden record; judgements keep it there."""
    reason = _require_reason(reason, "move a record")
    record = SourceRecord.objects.select_for_update().filter(pk=record_id).first()
    if record is None:
        raise StewardError("record_not_found", "No such source record.", 404)
    target = golden_service.current(target_id)
    if target is None or target.domain != record.domain:
        raise StewardError("bad_target", "The target must be a golden record of the same domain.")
    old = _golden_of(record)
    if old.pk == target.pk:
        raise StewardError("same_golden", "The record already belongs to this golden record.", 409)
    joining = list(target.source_records.values_list("pk", flat=True))
    leaving = list(old.source_records.exclude(pk=record.pk).values_list("pk", flat=True))
    why = f"steward move: {reason}"
    golden_service.link_records(target, [record], reason=why, user=user)
    golden_service.rebuild(target, reason=why, user=user)
    if leaving:
        golden_service.rebuild(old, reason=why, user=user)
    else:
        # An emptied golden record retires into the target, so its ID keeps answering (invariant 1).
        golden_service.merge(target, [old], reason=why, user=user)
    for other in joining:
        judge(domain=record.domain, a=record.pk, b=other, verdict=Verdict.MATCH, user=user, reason=reason)
    for other in leaving:
        judge(domain=record.domain, a=record.pk, b=other, verdict=Verdict.NO_MATCH, user=user, reason=reason)
    _audit(user, "move", f"golden/{target.pk}", reason, {"record": record.pk, "from": str(old.pk)})
    return target


def pinnable(domain: str) -> list[str]:
    """Attributes of `domain` a steward may pin."""
    from mdm.survivorship import NOT_SURVIVED

    names = [f.name for f in SCHEMAS[domain].fields if f.name not in NOT_SURVIVED]
    return [*names, "address"] if domain == "customer" else names


def _pin_value(domain: str, attribute: str, value: Any) -> Any:
    if attribute not in pinnable(domain):
        raise StewardError("bad_attribute", f"{attribute!r} cannot be pinned in {domain}.")
    spec = SCHEMAS[domain].by_name.get(attribute)
    if attribute in MULTI_VALUED:
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        return [v for v in items if v]
    if spec is None:
        return value
    try:
        return PARSERS[spec.kind](value)
    except Invalid as exc:
        raise StewardError("bad_value", str(exc)) from exc


@transaction.atomic
def golden_pin(*, golden_id: Any, attribute: str, value: Any, user: Any, reason: str) -> GoldenRecord:
    """Pin an attribute value: it wins survivorship until unpinned."""
    reason = _require_reason(reason, "override a value")
    golden = _locked_golden(golden_id)
    parsed = _pin_value(golden.domain, attribute, value)
    golden.pins = {**golden.pins, attribute: parsed}
    _rebuild_with_pins(golden, f"steward pin {attribute}: {reason}", user)
    _audit(user, "pin", f"golden/{golden.pk}", reason, {"attribute": attribute, "value": parsed})
    return golden


@transaction.atomic
def golden_unpin(*, golden_id: Any, attribute: str, user: Any, reason: str = "") -> GoldenRecord:
    """Remove a pin: the attribute survives by its rule again."""
    golden = _locked_golden(golden_id)
    if attribute not in golden.pins:
        raise StewardError("not_pinned", f"{attribute!r} is not pinned.", 409)
    golden.pins = {k: v for k, v in golden.pins.items() if k != attribute}
    _rebuild_with_pins(golden, f"steward unpin {attribute}" + (f": {reason}" if reason else ""), user)
    _audit(user, "unpin", f"golden/{golden.pk}", reason, {"attribute": attribute})
    return golden


def _locked_golden(golden_id: Any) -> GoldenRecord:
    found = golden_service.current(golden_id)
    if found is None:
        raise StewardError("golden_not_found", "No such golden record.", 404)
    return GoldenRecord.objects.select_for_update().get(pk=found.pk)


def _rebuild_with_pins(golden: GoldenRecord, reason: str, user: Any) -> None:
    if not golden_service.rebuild(golden, reason=reason, user=user):
        # Nothing survived differently (the pin equals the value held): keep the pin itself anyway.
        golden._change_reason = reason
        golden._history_user = user
        golden.save(update_fields=["pins", "updated_at"])


def quarantine_replay(
    *, quarantine_id: int, user: Any, payload: dict[str, Any] | None = None
) -> RecordOutcome:
    """Ingest a quarantined record again, as received or corrected."""
    q = QuarantinedRecord.objects.select_related("system").filter(pk=quarantine_id).first()
    if q is None:
        raise StewardError("quarantine_not_found", "No such quarantined record.", 404)
    if q.status != "open":
        raise StewardError("not_open", f"This record was already {q.status}.", 409)
    outcome = replay_quarantined(q, payload=payload, user=user)
    _audit(user, "replay", f"quarantine/{q.pk}", "", {"outcome": outcome.outcome})
    return outcome


def delivery_replay(*, delivery_id: int, user: Any) -> list[int]:
    """Put a dead outbound delivery back in line (connectors.delivery does the sending)."""
    from connectors.delivery import deliveries_replay

    replayed = deliveries_replay(ids=[delivery_id])
    if not replayed:
        raise StewardError("not_dead", "Only a delivery that gave up can be replayed.", 409)
    _audit(user, "delivery_replay", f"delivery/{delivery_id}", "", {"replayed": replayed})
    return replayed
