"""Ingest: the one way records enter the hub, whatever the door (REST batch, CSV command, sync, webhook).

Each record is validated against its domain's schema, its references to other domains are checked
through the cross-reference, and it is upserted idempotently: the same payload twice is `unchanged`
(no new version), an update older than the held one is `stale`, an invalid one is quarantined with
its reason. New and changed records are handed to matching on commit.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import planner_stats
from .choices import Outcome, QuarantineStatus
from .models import QuarantinedRecord, SourceRecord, SourceSystem
from .schemas import SCHEMAS, Errors, describe, validate

CHUNK = 1000
T = TypeVar("T")


@dataclass
class RecordOutcome:
    """What happened to one incoming record."""

    source_id: str
    outcome: str
    record_id: int | None = None
    quarantine_id: int | None = None
    reason: str = ""
    errors: Errors | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source_id": self.source_id, "outcome": self.outcome}
        if self.outcome == Outcome.QUARANTINED:
            data |= {"quarantine_id": self.quarantine_id, "reason": self.reason, "errors": self.errors}
        return data


@dataclass
class IngestReport:
    """Outcomes in input order, and their counts."""

    outcomes: list[RecordOutcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(o.outcome for o in self.outcomes)
        return {outcome.value: counted.get(outcome.value, 0) for outcome in Outcome}

    @property
    def changed_ids(self) -> list[int]:
        return [
            o.record_id
            for o in self.outcomes
            if o.outcome in (Outcome.CREATED, Outcome.UPDATED) and o.record_id is not None
        ]

    def extend(self, other: IngestReport) -> None:
        self.outcomes.extend(other.outcomes)


def fingerprint(attributes: Mapping[str, Any]) -> str:
    """Content hash of the canonical attributes; the modification time is not content."""
    content = {k: v for k, v in attributes.items() if k != "updated_at"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ingest_records(
    *,
    system: SourceSystem,
    domain: str,
    payloads: Iterable[Mapping[str, Any]],
    received_via: str,
    user: Any = None,
    resolve: bool = True,
) -> IngestReport:
    """Validate and upsert `payloads` of one system and domain; hand changed records to matching."""
    report = IngestReport()
    for chunk in chunked(payloads, CHUNK):
        try:
            part = _ingest_chunk(system, domain, chunk, received_via, user, resolve)
        except IntegrityError:
            # A concurrent ingest created one of these source IDs between our read and write;
            # a second pass sees it and updates instead.
            part = _ingest_chunk(system, domain, chunk, received_via, user, resolve)
        report.extend(part)
    return report


def _ingest_chunk(
    system: SourceSystem,
    domain: str,
    chunk: list[Mapping[str, Any]],
    received_via: str,
    user: Any,
    resolve: bool,
) -> IngestReport:
    validated = [(payload, *validate(domain, payload)) for payload in chunk]
    waiting = _missing_references(system, domain, [clean for _, clean, errors in validated if not errors])
    report = IngestReport()
    reason = f"ingest via {received_via}"
    with transaction.atomic():
        held = {
            r.source_id: r
            for r in SourceRecord.objects.select_for_update().filter(
                system=system, domain=domain, source_id__in=[c.get("source_id") for _, c, _ in validated]
            )
        }
        to_create: dict[str, SourceRecord] = {}
        to_update: dict[str, SourceRecord] = {}
        quarantine: list[tuple[int, QuarantinedRecord]] = []
        for index, (payload, clean, errors) in enumerate(validated):
            source_id = str(clean.get("source_id") or payload.get("source_id") or "")
            missing = waiting.get(id(clean)) if not errors else None
            if errors or missing:
                errors = errors or {missing[0]: [missing[1]]}
                q = QuarantinedRecord(
                    system=system,
                    domain=domain,
                    source_id=source_id[:120],
                    raw=_jsonable(payload),
                    errors=errors,
                    reason=describe(errors),
                    received_via=received_via,
                    waiting_for=missing[2] if missing else "",
                )
                quarantine.append((index, q))
                report.outcomes.append(RecordOutcome(source_id, Outcome.QUARANTINED))
                continue
            outcome, record = _upsert(system, domain, payload, clean, held.get(source_id))
            if record is not None:
                held[source_id] = record
                (to_create if record.pk is None else to_update)[source_id] = record
            report.outcomes.append(RecordOutcome(source_id, outcome))
        if to_create:
            bulk_create_with_history(
                list(to_create.values()), SourceRecord, default_user=user, default_change_reason=reason
            )
        if to_update:
            bulk_update_with_history(
                list(to_update.values()),
                SourceRecord,
                ["raw", "attributes", "features", "fingerprint", "source_updated_at", "updated_at"],
                default_user=user,
                default_change_reason=reason,
            )
        if quarantine:
            QuarantinedRecord.objects.bulk_create([q for _, q in quarantine])
        ids = {r.source_id: r.pk for r in (*to_create.values(), *to_update.values())}
        if to_create and not all(ids.values()):
            # Backends that return no primary keys from bulk inserts: read them back.
            ids |= dict(
                SourceRecord.objects.filter(
                    system=system, domain=domain, source_id__in=list(to_create)
                ).values_list("source_id", "pk")
            )
        for outcome in report.outcomes:
            outcome.record_id = ids.get(outcome.source_id) or (
                held[outcome.source_id].pk if outcome.source_id in held else None
            )
        for index, q in quarantine:
            report.outcomes[index].quarantine_id = q.pk
            report.outcomes[index].reason = q.reason
            report.outcomes[index].errors = q.errors
        changed = report.changed_ids
        if changed and resolve:
            _hand_to_matching(domain, changed)
        if to_create:
            keys = [f"{domain}:{system.code}:{source_id}" for source_id in to_create]
            transaction.on_commit(lambda: replay_waiting(keys))
    planner_stats.wrote(SourceRecord, len(to_create))
    return report


def _upsert(
    system: SourceSystem,
    domain: str,
    payload: Mapping[str, Any],
    clean: dict[str, Any],
    held: SourceRecord | None,
) -> tuple[str, SourceRecord | None]:
    """The outcome for one valid record and the row to write, if any."""
    print_ = fingerprint(clean)
    modified = parse_datetime(clean["updated_at"]) if clean.get("updated_at") else None
    if held is not None:
        if held.fingerprint == print_:
            return Outcome.UNCHANGED, None
        if modified and held.source_updated_at and modified < held.source_updated_at:
            return Outcome.STALE, None
        held.raw = _jsonable(payload)
        held.attributes = clean
        held.features = {}  # stale now; matching recomputes them off the ingest path
        held.fingerprint = print_
        held.source_updated_at = modified or held.source_updated_at
        held.updated_at = timezone.now()
        return (Outcome.CREATED if held.pk is None else Outcome.UPDATED), held
    record = SourceRecord(
        system=system,
        domain=domain,
        source_id=clean["source_id"],
        raw=_jsonable(payload),
        attributes=clean,
        features={},
        fingerprint=print_,
        source_updated_at=modified,
    )
    return Outcome.CREATED, record


def _missing_references(
    system: SourceSystem, domain: str, cleans: list[dict[str, Any]]
) -> dict[int, tuple[str, str, str]]:
    """For each record naming a record of another domain the hub does not hold: (field, message, key)."""
    references = SCHEMAS[domain].references
    if not references or not cleans:
        return {}
    wanted: dict[tuple[str, str], set[str]] = {}
    for clean in cleans:
        for ref in references:
            if clean.get(ref.attribute):
                target_system = clean.get(ref.system_attribute) or system.code
                wanted.setdefault((ref.domain, target_system), set()).add(clean[ref.attribute])
    held: set[tuple[str, str, str]] = set()
    for (ref_domain, target_system), source_ids in wanted.items():
        rows = SourceRecord.objects.filter(
            system__code=target_system, domain=ref_domain, source_id__in=source_ids
        ).values_list("source_id", flat=True)
        held.update((ref_domain, target_system, source_id) for source_id in rows)
    missing: dict[int, tuple[str, str, str]] = {}
    for clean in cleans:
        for ref in references:
            value = clean.get(ref.attribute)
            target_system = clean.get(ref.system_attribute) or system.code
            if value and (ref.domain, target_system, value) not in held:
                message = f"No {ref.domain} record {value!r} from {target_system} is held yet."
                missing[id(clean)] = (ref.attribute, message, f"{ref.domain}:{target_system}:{value}")
                break
    return missing


def _hand_to_matching(domain: str, record_ids: list[int]) -> None:
    from matching.tasks import resolve_records

    size = settings.MDM_MATCH_CHUNK
    for start in range(0, len(record_ids), size):
        ids = record_ids[start : start + size]
        transaction.on_commit(lambda ids=ids: resolve_records.delay(ids))


def replay_waiting(keys: list[str]) -> None:
    """Replay quarantined records that were waiting for one of the records just created."""
    for q in QuarantinedRecord.objects.filter(status=QuarantineStatus.OPEN, waiting_for__in=keys):
        replay_quarantined(q, payload=None, user=None)


def replay_quarantined(
    q: QuarantinedRecord, *, payload: Mapping[str, Any] | None, user: Any
) -> RecordOutcome:
    """Ingest a quarantined record again, as it was or with a corrected payload."""
    report = ingest_records(
        system=q.system, domain=q.domain, payloads=[payload or q.raw], received_via="replay", user=user
    )
    outcome = report.outcomes[0]
    if outcome.outcome != Outcome.QUARANTINED:
        QuarantinedRecord.objects.filter(pk=q.pk).update(
            status=QuarantineStatus.REPLAYED, resolved_at=timezone.now(), resolution=outcome.outcome
        )
    else:
        # The new attempt was quarantined again as a row of its own; this one is superseded by it.
        QuarantinedRecord.objects.filter(pk=q.pk).update(
            status=QuarantineStatus.DISCARDED, resolved_at=timezone.now(), resolution="requarantined"
        )
    return outcome


def _jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(payload), default=str))
