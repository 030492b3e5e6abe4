"""Resolution services: the Django side that feeds the pure core with records from the database and
applies its decisions to golden records. Tasks, the API and commands call these."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from mdm import golden as golden_service
from mdm.models import GoldenRecord, SourceRecord

from .blocking import blocking_keys
from .engine import resolve_batch, resolve_one
from .model import MatchModel
from .models import BlockingKey, Judgement, MatchConfig, MatchRun, ReviewTask, Verdict
from .settings import MatchSettings, default_settings

log = logging.getLogger(__name__)
REASON = "identity resolution"


def match_config(domain: str) -> MatchConfig:
    """The domain's settings row, created with the defaults on first use."""
    config, _ = MatchConfig.objects.get_or_create(
        domain=domain, defaults={"settings": default_settings(domain).to_dict()}
    )
    return config


def load_settings(config: MatchConfig) -> tuple[MatchSettings, MatchModel | None]:
    """The settings and the fitted model (None before the first batch run fits one)."""
    match_settings = MatchSettings.from_dict(config.settings)
    model = MatchModel.from_dict(config.model) if config.model else None
    return match_settings, model


def judgement_pairs(domain: str, record_ids: Iterable[int] | None = None) -> tuple[set, set]:
    """(must_link, cannot_link) pairs from steward judgements, optionally only those touching ids."""
    rows = Judgement.objects.filter(domain=domain)
    if record_ids is not None:
        ids = list(record_ids)
        rows = rows.filter(left__in=ids) | rows.filter(right__in=ids)
    must, cannot = set(), set()
    for left, right, verdict in rows.values_list("left", "right", "verdict"):
        (must if verdict == Verdict.MATCH else cannot).add((left, right))
    return must, cannot


def _lock_keys(keys: list[str]) -> None:
    """Serialise resolution of records that share a blocking key (invariant 7).

    Two workers resolving duplicates of one party at once both take the lock of a shared key; the
    second waits until the first has committed its golden record, then finds and joins it. Locks are
    taken in sorted order so two workers never deadlock. SQLite serialises writers by itself.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _candidates(domain: str, record: SourceRecord, keys: list[str], limit: int) -> dict[int, dict[str, Any]]:
    ids: set[int] = set()
    for key in keys:
        ids.update(
            BlockingKey.objects.filter(domain=domain, key=key)
            .exclude(record=record)
            .values_list("record_id", flat=True)[:limit]
        )
    rows = SourceRecord.objects.filter(pk__in=ids, golden__isnull=False).values_list(
        "pk", "features", "golden_id"
    )
    return {pk: (features, str(golden_id)) for pk, features, golden_id in rows}


def _store_keys(record: SourceRecord, keys: list[str]) -> None:
    BlockingKey.objects.filter(record=record).delete()
    BlockingKey.objects.bulk_create(
        [BlockingKey(domain=record.domain, key=k, record=record) for k in set(keys)]
    )


def resolve_records(record_ids: list[int]) -> int:
    """Resolve each record against everything held (incremental mode); returns how many were placed."""
    placed = 0
    for record_id in sorted(record_ids):
        with transaction.atomic():
            record = SourceRecord.objects.select_related("system").filter(pk=record_id).first()
            if record is None:
                continue
            placed += _resolve_one(record)
    return placed


def _resolve_one(record: SourceRecord) -> int:
    domain = record.domain
    config = match_config(domain)
    match_settings, model = load_settings(config)
    keys = blocking_keys(domain, record.features)
    _lock_keys(keys)
    _store_keys(record, keys)
    if record.golden_id is not None:
        # An update of a placed record keeps its place (a steward may have put it there); its golden
        # values follow the new attributes.
        golden_service.rebuild(record.golden, reason=f"{REASON}: source record changed")
        return 0
    found = _candidates(domain, record, keys, match_settings.max_block)
    must, cannot = judgement_pairs(domain, [record.pk])
    decision = resolve_one(
        record.pk,
        record.features,
        {pk: feats for pk, (feats, _) in found.items()},
        {pk: golden_id for pk, (_, golden_id) in found.items()},
        match_settings,
        model or MatchModel.from_settings(match_settings),
        must_link=must,
        cannot_link=cannot,
    )
    if decision.kind == "link":
        golden = GoldenRecord.objects.get(pk=decision.cluster)
        golden_service.link_records(
            golden, [record], reason=f"{REASON}: linked, weight {decision.score.weight:.1f}"
        )
        golden_service.rebuild(golden, reason=f"{REASON}: record joined")
        return 1
    golden_service.create_golden(domain, [record], reason=f"{REASON}: no match")
    if decision.kind == "review":
        _open_review(domain, record.pk, decision.candidate, decision.score)
    return 1


def _open_review(domain: str, a: int, b: int, score: Any) -> None:
    left, right = sorted((a, b))
    if Judgement.objects.filter(left=left, right=right).exists():
        return
    ReviewTask.objects.get_or_create(
        left_id=left,
        right_id=right,
        status=ReviewTask.Status.OPEN,
        defaults={
            "domain": domain,
            "score": score.weight,
            "probability": score.probability,
            "explanation": score.to_dict(),
        },
    )


def start_batch(domain: str) -> MatchRun:
    """Record a batch run of `domain`; the caller enqueues or runs it."""
    return MatchRun.objects.create(domain=domain, records=SourceRecord.objects.filter(domain=domain).count())


def run_batch(run_id: int) -> MatchRun:
    """Re-resolve a whole domain and reconcile golden records with the clusters found."""
    run = MatchRun.objects.get(pk=run_id)
    try:
        _run_batch(run)
    except Exception as exc:
        MatchRun.objects.filter(pk=run.pk).update(
            status=MatchRun.Status.FAILED, error=repr(exc), finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    return run


def _run_batch(run: MatchRun) -> None:
    domain = run.domain
    config = match_config(domain)
    match_settings, model = load_settings(config)
    rows = SourceRecord.objects.filter(domain=domain).values_list("pk", "features", "golden_id")
    records: dict[int, dict[str, Any]] = {}
    held: dict[int, str | None] = {}
    for pk, features, golden_id in rows.iterator(chunk_size=5000):
        records[pk] = features
        held[pk] = str(golden_id) if golden_id else None
    must, cannot = judgement_pairs(domain)
    result = resolve_batch(records, match_settings, model=model, must_link=must, cannot_link=cannot)
    _set_progress(run, 0.5)
    config.model = result.model.to_dict()
    config.fitted_at = timezone.now()
    config.save(update_fields=["model", "fitted_at"])
    _reconcile(domain, result.clusters, held, run)
    _store_all_keys(domain, records)
    _replace_reviews(domain, result.reviews)
    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRun.Status.DONE,
        progress=1.0,
        finished_at=timezone.now(),
        stats={**result.stats, "clusters": len(result.clusters), "reviews": len(result.reviews)},
    )


def _set_progress(run: MatchRun, progress: float) -> None:
    MatchRun.objects.filter(pk=run.pk).update(progress=progress)


def _reconcile(domain: str, clusters: list[list[int]], held: dict[int, str | None], run: MatchRun) -> None:
    """Make golden records follow the clusters while keeping golden IDs stable.

    A cluster keeps the golden ID most of its members already have (the oldest on a tie); other
    golden records whose members all moved into it retire into it (a merge); members that leave a
    golden record whose ID another cluster kept get a new golden ID (a split).
    """
    claimed: set[str] = set()
    total = max(len(clusters), 1)
    reason = f"{REASON}: batch run {run.pk}"
    for done, members in enumerate(sorted(clusters, key=len, reverse=True), start=1):
        votes: dict[str, int] = defaultdict(int)
        for pk in members:
            if held.get(pk):
                votes[held[pk]] += 1
        keep = next(
            (g for g, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])) if g not in claimed), None
        )
        with transaction.atomic():
            if keep is None:
                golden = golden_service.create_golden(
                    domain, SourceRecord.objects.filter(pk__in=members), reason=reason
                )
                moving = members
            else:
                claimed.add(keep)
                golden = GoldenRecord.objects.get(pk=keep)
                moving = [pk for pk in members if held.get(pk) != keep]
                if not moving:
                    continue
                golden_service.link_records(golden, SourceRecord.objects.filter(pk__in=moving), reason=reason)
                golden_service.rebuild(golden, reason=reason)
            claimed.add(str(golden.pk))
            for old_id in {held[pk] for pk in moving if held.get(pk)}:
                old = GoldenRecord.objects.get(pk=old_id)
                if not old.source_records.exists() and old_id not in claimed:
                    golden_service.merge(golden, [old], reason=reason)
                else:
                    golden_service.rebuild(old, reason=reason)
        if done % 500 == 0:
            _set_progress(run, 0.5 + 0.4 * done / total)


def _store_all_keys(domain: str, records: dict[int, dict[str, Any]]) -> None:
    BlockingKey.objects.filter(domain=domain).delete()
    batch: list[BlockingKey] = []
    for pk, features in records.items():
        batch.extend(
            BlockingKey(domain=domain, key=k, record_id=pk) for k in set(blocking_keys(domain, features))
        )
        if len(batch) >= 20000:
            BlockingKey.objects.bulk_create(batch)
            batch = []
    BlockingKey.objects.bulk_create(batch)


def _replace_reviews(domain: str, reviews: list[tuple[int, int, Any]]) -> None:
    ReviewTask.objects.filter(domain=domain, status=ReviewTask.Status.OPEN).update(
        status=ReviewTask.Status.SUPERSEDED
    )
    for a, b, score in reviews:
        _open_review(domain, a, b, score)
