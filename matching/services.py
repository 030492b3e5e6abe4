"""Resolution services: the Django side that feeds the pure core with records from the database and
applies its decisions to golden records. Tasks, the API and commands call these."""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import zip_longest
from typing import Any

import numpy as np
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from mdm import golden as golden_service
from mdm import planner_stats
from mdm.gcpause import gc_paused
from mdm.ingest import chunked
from mdm.models import GoldenRecord, SourceRecord
from mdm.reference import canonical_code
from mdm.selectors import customers_with_open_contract

from . import em
from .blocking import blocking_keys, locality_order, sort_key
from .cluster import pair_key
from .engine import (
    BatchResult,
    PairVerdict,
    PreparedBatch,
    is_sparse,
    prepare_batch,
    resolve_batch,
    settle_batch,
    shard_edges,
)
from .features import features as record_features
from .model import MatchModel
from .models import (
    BlockingKey,
    FeatureChunk,
    GoldenChunk,
    Judgement,
    MatchConfig,
    MatchRun,
    MatchShard,
    ReviewTask,
    Verdict,
)
from .settings import MatchSettings, default_settings
from .shards import edges_from_bytes, edges_to_bytes, pairs_from_bytes, pairs_to_bytes
from .stored_features import features_of, held_features

log = logging.getLogger(__name__)
REASON = "identity resolution"
# Below this many records, u probabilities estimated from random pairs are noise: the settings'
# priors serve both modes until a domain is large enough to fit its own model.
MIN_RECORDS_TO_FIT = 1000
# Incremental resolution refits the model (term frequencies, u, the prior) each time the domain has
# grown by this factor since the last fit, so that records loaded one chunk at a time are weighed as
# a batch run over the same records would weigh them; a batch run always refits. Measured on the
# labelled set: growth 2 left the last fit a third short of the final size (agreement of the two
# modes 0.946), 1.25 keeps it within a fifth (0.970; 0.982 since u is estimated per stage and
# sparse records bring their rivals) for about a dozen fits of a few seconds. Refitting every 3 %
# gained little (0.986 against 0.976, before those two changes): what still differs is what earlier,
# smaller models decided about records no later record touched. Hence a refit is followed by a
# batch run (MDM_REMATCH_ON_REFIT): 0.9996 when the last refit falls on the last chunk, 0.982 when
# 15 % of the records came after it (the model drifts as they arrive); under one model 0.998.
REFIT_GROWTH = 1.25
SHARDS_PER_INSERT = 4
FEATURE_CHUNK = 2000
LAST_ID = 2**63 - 1
GOLDEN_WRITES = 2000  # new golden records written per transaction
FIT_POLL = 0.2  # seconds between looks at whether a run's model, fitted beside, is there
PREPARING = "preparing"  # the claim on a run's fit of the worker that prepares the run


def features_for(system: str, domain: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Match features of a record; a product's code is compared as its canonical (mapped) code."""
    if domain == "product" and attributes.get("code"):
        attributes = {**attributes, "code": canonical_code(system, attributes["code"])}
    return record_features(domain, attributes)


def ensure_features(records: Iterable[SourceRecord]) -> None:
    """Compute the features of records that ingest stored without them (new or changed records).

    Ingest leaves this to matching: normalising costs about a millisecond a record, more than the
    rest of ingest together, and here it runs on the workers. One UPDATE per record through
    executemany; Django's bulk_update builds a CASE over the whole batch and is slower.
    """
    table = SourceRecord._meta.db_table
    for chunk in chunked((r for r in records if not r.features), FEATURE_CHUNK):
        for record in chunk:
            record.features = features_for(record.system.code, record.domain, record.attributes)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET features = %s WHERE id = %s",
                [(json.dumps(r.features), r.pk) for r in chunk],
            )


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


# Settings and fitted model per domain, kept in each process: the fitted model carries term-frequency
# tables, and reading and decoding them took two thirds of a search before create (20 of 33 ms) and
# 2.4 s at a million records. Every CACHE_SECONDS the settings are read again, the model only when
# it was refitted since. A batch run that fits a new model clears its own process's entry at once.
CACHE_SECONDS = 60.0
_loaded: dict[str, tuple[float, MatchSettings, MatchModel, Any]] = {}


def settings_and_model(domain: str) -> tuple[MatchSettings, MatchModel]:
    """The domain's match settings and model (the fitted one, else the settings' priors), cached."""
    cached = _loaded.get(domain)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1], cached[2]
    row = MatchConfig.objects.filter(domain=domain).values_list("settings", "fitted_at").first()
    if cached and row and row[1] == cached[3]:
        match_settings, model, fitted_at = MatchSettings.from_dict(row[0]), cached[2], row[1]
    else:
        config = match_config(domain)
        match_settings, fitted = load_settings(config)
        model, fitted_at = fitted or MatchModel.from_settings(match_settings), config.fitted_at
    _loaded[domain] = (time.monotonic(), match_settings, model, fitted_at)
    return match_settings, model


# Each domain's size as last counted in this process, with the highest record ID at that moment. A
# count reads the whole domain (250 ms of every incremental resolution at 100,000 records), but the
# records added since cannot outnumber the IDs handed out since: the domain is counted again only
# when that bound reaches the size asked about. Records still uncommitted at a count are missed
# until the next one, which at worst delays a refit by a chunk or two.
_counted: dict[str, tuple[int, int]] = {}


def _holds_at_least(domain: str, wanted: int, newest: int) -> bool:
    """Does the domain hold at least ``wanted`` source records? ``newest`` is the highest record ID
    known to be held (that of the records being resolved): records are only counted again once the
    IDs since the last count could make up the difference."""
    counted = _counted.get(domain)
    if counted and counted[1] <= newest and counted[0] + newest - counted[1] < wanted:
        return False
    held = SourceRecord.objects.filter(domain=domain).count()
    _counted[domain] = (held, newest)
    return held >= wanted


def _store_model(config: MatchConfig, model: MatchModel) -> None:
    config.model = model.to_dict()
    config.fitted_at = timezone.now()
    config.save(update_fields=["model", "fitted_at"])
    _loaded.pop(config.domain, None)


def _fit_and_store(
    config: MatchConfig, match_settings: MatchSettings, records: dict[int, dict[str, Any]]
) -> tuple[MatchModel, dict[str, Any]]:
    """A model fitted on `records` from the records alone (``em.fit`` without candidate pairs), stored
    as the domain's; with what the fit reports."""
    model = MatchModel.from_settings(match_settings)
    info = em.fit(model, records, np.zeros((0, 2), np.int64))
    _store_model(config, model)
    return model, info


def _model_for_chunk(
    domain: str, match_settings: MatchSettings, model: MatchModel, newest: int
) -> MatchModel:
    """The model to resolve a chunk with: refitted over every held record once the domain has grown
    out of the one in use (see ``REFIT_GROWTH``)."""
    fitted = model.fitted_records
    wanted = math.ceil(REFIT_GROWTH * fitted) if fitted else MIN_RECORDS_TO_FIT
    if not _holds_at_least(domain, wanted, newest):
        return model
    held = SourceRecord.objects.filter(domain=domain)
    ensure_features(held.filter(features={}).select_related("system").iterator(chunk_size=FEATURE_CHUNK))
    model = _fit_and_store(match_config(domain), match_settings, held_features(domain))[0]
    if django_settings.MDM_REMATCH_ON_REFIT:
        transaction.on_commit(lambda: rematch(domain))
    return model


def rematch(domain: str) -> MatchRun | None:
    """Re-resolve a domain in batch after its model changed, unless a batch run of it is under way
    (one at a time: that run, when it finishes, starts another if the model changed after it fixed
    its own; see ``_finish_batch_run``); the run started, if any."""
    from .tasks import resolve_domain  # the tasks module imports this one

    if MatchRun.objects.filter(domain=domain, status=MatchRun.Status.RUNNING).exists():
        return None
    run = start_batch(domain)
    resolve_domain.delay(run.pk)
    return run


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
    taken in sorted order (unnest keeps the array's order) so two workers never deadlock, in one
    statement. SQLite serialises writers by itself.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(%s::text[]) AS k",
            [sorted(set(keys))],
        )


def _key_rows(domain: str, pk: int, keys: list[str]) -> list[tuple[str, str, int, str]]:
    """The rows (domain, key, record, sort) that store one record's blocking keys."""
    order = sort_key(keys)
    return [(domain, key, pk, order) for key in set(keys)]


def _store_keys(domain: str, keys_of: dict[int, list[str]]) -> None:
    BlockingKey.objects.filter(record_id__in=list(keys_of)).delete()
    rows = [
        BlockingKey(domain=d, key=k, record_id=pk, sort=order)
        for record, keys in keys_of.items()
        for d, k, pk, order in _key_rows(domain, record, keys)
    ]
    # a batch run's settling chunk may have rewritten these records' keys since the delete above
    BlockingKey.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    planner_stats.wrote(BlockingKey, len(rows))


FEW_KEYS = 40
# Subqueries per UNION ALL statement: well below SQLite's limits on compound selects and variables.
UNION_PARTS = 100


def _union(parts: list[tuple[str, list[Any]]]) -> list[tuple[int, int]]:
    """(tag, record_id) rows of `parts`, each a SELECT of the blocking-key table with its parameters,
    run as UNION ALL statements: one round trip instead of one per part.

    Each part is wrapped as a derived table so that its own ORDER BY and LIMIT apply to it alone.
    """
    rows: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(parts), UNION_PARTS):
            chunk = parts[start : start + UNION_PARTS]
            sql = " UNION ALL ".join(
                f"SELECT * FROM ({part}) AS p{n}" for n, (part, _) in enumerate(chunk, start)
            )
            cursor.execute(sql, [value for _, params in chunk for value in params])
            rows.extend(cursor.fetchall())
    return rows


_TABLE = BlockingKey._meta.db_table


def _first_members(domain: str, keys: list[str], cap: int) -> dict[str, list[int]]:
    """Up to `cap` members of each key's block: `cap` found means the block is oversized."""
    parts = [
        (
            f"SELECT {n} AS tag, record_id FROM {_TABLE} WHERE domain = %s AND key = %s LIMIT {cap}",
            [domain, key],
        )
        for n, key in enumerate(keys)
    ]
    members: dict[str, list[int]] = {key: [] for key in keys}
    for n, record_id in _union(parts):
        members[keys[n]].append(record_id)
    return members


def _neighbours(domain: str, wanted: list[tuple[int, str, str]], window: int) -> dict[int, set[int]]:
    """For each (record, oversized key, the record's sort key): the `window` members of the block
    that sort nearest on either side (two range scans of the (domain, key, sort) index)."""
    parts = []
    select = f"SELECT {{n}} AS tag, record_id FROM {_TABLE} WHERE domain = %s AND key = %s AND sort"
    for n, (_, key, own) in enumerate(wanted):
        after = f"{select.format(n=n)} >= %s ORDER BY sort, record_id LIMIT {window}"
        before = f"{select.format(n=n)} < %s ORDER BY sort DESC, record_id DESC LIMIT {window}"
        parts += [(after, [domain, key, own]), (before, [domain, key, own])]
    found: dict[int, set[int]] = defaultdict(set)
    for n, record_id in _union(parts):
        found[wanted[n][0]].add(record_id)
    return found


def _candidates_of(
    domain: str, keys_of: dict[int, list[str]], settings: MatchSettings
) -> dict[int, set[int]]:
    """Held records sharing a blocking key with each record, by indexed look-ups.

    A block of at most `max_block` records gives all its members. A larger one gives, as the batch
    engine's sorted neighbourhood does, the `window` records whose name key sorts nearest to the
    record's own on either side. Look-ups go as few UNION ALL statements: one record's twenty-odd
    keys cost twenty-odd round trips before, half of an incremental resolution at 100,000 records.
    """
    keys = sorted({k for ks in keys_of.values() for k in ks})
    sizes: dict[str, int] = {}
    members: dict[str, list[int]] = defaultdict(list)
    if len(keys) <= FEW_KEYS:
        # One record's keys: a LIMIT per key tells a small block from an oversized one without
        # counting the oversized one to its end.
        members.update(_first_members(domain, keys, settings.max_block + 1))
        sizes = {key: len(found) for key, found in members.items()}
    else:
        for start in range(0, len(keys), 500):
            rows = BlockingKey.objects.filter(domain=domain, key__in=keys[start : start + 500])
            sizes.update(rows.values_list("key").annotate(n=Count("id")).values_list("key", "n"))
        small = [k for k in keys if 0 < sizes.get(k, 0) <= settings.max_block]
        for start in range(0, len(small), 500):
            rows = BlockingKey.objects.filter(domain=domain, key__in=small[start : start + 500])
            for key, record_id in rows.values_list("key", "record_id"):
                members[key].append(record_id)
    found: dict[int, set[int]] = {}
    oversized: list[tuple[int, str, str]] = []
    for pk, record_keys in keys_of.items():
        own = sort_key(record_keys)
        found[pk] = set()
        for key in record_keys:
            if sizes.get(key, 0) <= settings.max_block:
                found[pk].update(members.get(key, ()))
            else:
                oversized.append((pk, key, own))
    for pk, ids in _neighbours(domain, oversized, settings.window).items():
        found[pk] |= ids
    for pk, ids in found.items():
        ids.discard(pk)
    return found


def resolve_records(record_ids: list[int]) -> int:
    """Resolve these records against everything held (incremental mode).

    Returns how many records were new (placed for the first time).
    """
    records = list(SourceRecord.objects.filter(pk__in=record_ids).select_related("system").order_by("pk"))
    ensure_features(records)
    placed = 0
    for domain in sorted({r.domain for r in records}):
        with transaction.atomic():
            placed += _resolve_chunk(domain, [r for r in records if r.domain == domain])
    return placed


def _resolve_chunk(domain: str, records: list[SourceRecord]) -> int:
    """Resolve new and changed records by re-clustering their neighbourhood (incremental mode).

    The neighbourhood is the records themselves, the held records that score at least the lower
    threshold against one of them, and every member of those records' golden records; and for each
    sparse held record among them that is alone in its golden record, the held records that score so
    against it with their golden records' members (its rivals: one step, not their own rivals in
    turn). The batch engine clusters that small set exactly as a full batch run would, so the two modes
    decide alike: a new record that bridges two golden records merges them, and a sparse record
    drawn to two namesakes goes to review in both modes. The golden records are then reconciled
    as in a batch run (stable IDs, merges and splits).
    """
    match_settings, model = settings_and_model(domain)
    model = _model_for_chunk(domain, match_settings, model, newest=max(r.pk for r in records))
    keys_of = {r.pk: blocking_keys(domain, r.features) for r in records}
    _lock_keys([k for keys in keys_of.values() for k in keys])
    _store_keys(domain, keys_of)
    feats: dict[int, dict[str, Any]] = {r.pk: r.features for r in records}
    relevant = _relevant(feats, _candidates_of(domain, keys_of, match_settings), match_settings, model)
    # Re-read under the locks: a concurrent worker may have placed or moved some of these meanwhile.
    held_now = _with_goldens(set(keys_of) | relevant, feats)
    # A sparse held record is decided by its rivals too (see engine.rivalry): those it was kept
    # apart for must be in the neighbourhood, or it would link to the one the new records touch.
    # Only one kept apart needs them: one linked was linked with no rival held, and a rival arriving
    # since brought it into that rival's own neighbourhood. Their keys are not locked (taken after
    # the new records' keys, locks could deadlock): a worker resolving a rival's duplicate at this
    # moment may move it, as it may move any golden record's other members; the next resolution
    # touching either sees the outcome.
    members = Counter(held_now.values())
    sparse = {
        pk: feats[pk]
        for pk, golden in held_now.items()
        if pk not in keys_of and members[golden] == 1 and is_sparse(feats[pk])
    }
    if sparse:
        sparse_keys = {pk: blocking_keys(domain, f) for pk, f in sparse.items()}
        rivals = _relevant(sparse, _candidates_of(domain, sparse_keys, match_settings), match_settings, model)
        held_now.update(_with_goldens(rivals - set(feats), feats))
    must, cannot = judgement_pairs(domain, list(feats))
    result = resolve_batch(feats, match_settings, model=model, must_link=must, cannot_link=cannot)
    changed = {held_now[r.pk] for r in records if held_now.get(r.pk)}
    _reconcile(domain, result.clusters, held_now, reason=f"{REASON}: new or changed records")
    # Members whose attributes changed: their golden values follow, even when no record moved.
    golden_service.rebuild_many(changed, reason=f"{REASON}: source record changed")
    _supersede_reviews_within(domain, set(feats), {tuple(sorted((a, b))) for a, b, _ in result.reviews})
    judged = must | cannot  # every judgement between the neighbourhood's records
    for a, b, score in result.reviews:
        if pair_key(a, b) not in judged:
            _open_review(domain, a, b, score)
    return sum(1 for r in records if not held_now.get(r.pk))


def _relevant(
    feats: dict[int, dict[str, Any]],
    candidates_of: dict[int, set[int]],
    match_settings: MatchSettings,
    model: MatchModel,
) -> set[int]:
    """The placed candidates that score at least the lower threshold against one of these records."""
    ids = set().union(*candidates_of.values()) - set(feats)
    held = dict(SourceRecord.objects.filter(pk__in=ids, golden__isnull=False).values_list("pk", "features"))
    return {
        pk
        for rid, own in feats.items()
        for pk in candidates_of[rid]
        if pk in held and model.weigh(own, held[pk])[0] >= match_settings.lower_threshold
    }


def _with_goldens(seeds: set[int], feats: dict[int, dict[str, Any]]) -> dict[int, str | None]:
    """The seeds and every member of their golden records, with each one's golden record (None: not
    placed yet); their features are added to ``feats``."""
    goldens = set(
        SourceRecord.objects.filter(pk__in=seeds, golden__isnull=False).values_list("golden_id", flat=True)
    )
    rows = SourceRecord.objects.filter(pk__in=seeds) | SourceRecord.objects.filter(golden_id__in=goldens)
    held: dict[int, str | None] = {}
    for pk, features, golden_id in rows.values_list("pk", "features", "golden_id"):
        feats.setdefault(pk, features)
        held[pk] = str(golden_id) if golden_id else None
    return held


def _supersede_reviews_within(domain: str, record_ids: set[int], asked: set[tuple[int, ...]]) -> None:
    """Supersede the open reviews between records of a re-clustered neighbourhood that its clustering
    no longer asks about, as a batch run supersedes all it no longer asks: the pair merged since, or
    a better question about one of its records took its place."""
    rows = ReviewTask.objects.filter(
        domain=domain, status=ReviewTask.Status.OPEN, left_id__in=record_ids, right_id__in=record_ids
    ).values_list("pk", "left_id", "right_id")
    stale = [pk for pk, left, right in rows if (left, right) not in asked]
    ReviewTask.objects.filter(pk__in=stale).update(status=ReviewTask.Status.SUPERSEDED)


def _open_review(domain: str, a: int, b: int, score: Any) -> None:
    """Open a review task on the pair, a pair no steward has judged (the caller knows its judgements)."""
    left, right = sorted((a, b))
    goldens = SourceRecord.objects.filter(pk__in=(left, right)).values_list("golden_id", flat=True)
    ReviewTask.objects.get_or_create(
        left_id=left,
        right_id=right,
        status=ReviewTask.Status.OPEN,
        defaults={
            "domain": domain,
            "score": score.weight,
            "probability": score.probability,
            "explanation": score.to_dict(),
            "impact": int(bool(customers_with_open_contract(goldens))),
        },
    )


def refresh_review_impact(customer_golden_ids: Iterable[Any]) -> int:
    """Recompute the impact of the open review tasks that involve these golden records' source records.

    Called when contracts open, close or move between customers. How many tasks changed.
    """
    ids = {str(g) for g in customer_golden_ids if g}
    if not ids:
        return 0
    records = list(SourceRecord.objects.filter(golden_id__in=ids).values_list("pk", flat=True))
    # one indexed look-up per side: "left or right among these" read every open task (0.7 s with
    # 180,000 of them, on each merge of golden records)
    columns = ("pk", "impact", "left__golden_id", "right__golden_id")
    open_tasks = ReviewTask.objects.filter(status=ReviewTask.Status.OPEN)
    tasks = list(
        open_tasks.filter(left__in=records)
        .values_list(*columns)
        .union(open_tasks.filter(right__in=records).values_list(*columns))
    )
    urgent = customers_with_open_contract({g for _, _, *pair in tasks for g in pair})
    moved: dict[int, list[int]] = {0: [], 1: []}
    for pk, impact, *pair in tasks:
        now = int(any(str(g) in urgent for g in pair if g))
        if now != impact:
            moved[now].append(pk)
    for impact, pks in moved.items():
        if pks:
            ReviewTask.objects.filter(pk__in=pks).update(impact=impact)
    return len(moved[0]) + len(moved[1])


def refresh_features(record_ids: list[int]) -> MatchRun | None:
    """Recompute the features of these records (their reference data changed) and re-resolve their domain."""
    from .tasks import resolve_domain  # the tasks module imports this one

    domains = set()
    records = list(SourceRecord.objects.filter(pk__in=record_ids).select_related("system"))
    for record in records:
        record.features = {}
        domains.add(record.domain)
    ensure_features(records)
    runs = [start_batch(domain) for domain in sorted(domains)]
    for run in runs:
        transaction.on_commit(lambda run=run: resolve_domain.delay(run.pk))
    return runs[0] if runs else None


def start_batch(domain: str, *, refresh_features: bool = False) -> MatchRun:
    """Record a batch run of `domain`; the caller enqueues or runs it.

    With `refresh_features`, the run normalises every record of the domain again, as it does records
    stored without features: after an upgrade that changes what features hold. Until it has, held
    records without features are not found by incremental resolution.
    """
    if refresh_features:
        SourceRecord.objects.filter(domain=domain).update(features={})
    return MatchRun.objects.create(domain=domain, records=SourceRecord.objects.filter(domain=domain).count())


def plan_features(run_id: int) -> int:
    """Split the records of a batch run's domain stored without features into chunks for
    `compute_feature_chunk`, to be normalised on every worker; how many chunks (0: too few records
    lack features to be worth it, and preparing computes them).

    Delivered again once its chunks exist, it returns their number: only those not done yet work.
    """
    with _failing(run_id):
        run = _running(run_id)
        if run is None:
            return 0
        planned = run.feature_chunks.count()
        if planned:
            return planned
        missing = SourceRecord.objects.filter(domain=run.domain, features={}).order_by("pk")
        ids = list(missing.values_list("pk", flat=True))
        size = django_settings.MDM_BATCH_FEATURE_CHUNK
        if len(ids) <= size:
            return 0
        chunks = FeatureChunk.objects.bulk_create(
            FeatureChunk(run=run, index=i, first_id=ids[start], last_id=ids[min(start + size, len(ids)) - 1])
            for i, start in enumerate(range(0, len(ids), size))
        )
        return len(chunks)


def compute_feature_chunk(run_id: int, index: int) -> bool:
    """Compute the features of one chunk of a batch run's records; True when it was the last chunk
    and the run may be prepared. A chunk already done (its task delivered twice) is not redone."""
    with _failing(run_id):
        run = _running(run_id)
        if run is None:
            return False

        def compute(chunk: FeatureChunk) -> None:
            span = (chunk.first_id, chunk.last_id)
            missing = SourceRecord.objects.filter(domain=run.domain, pk__range=span, features={})
            ensure_features(missing.select_related("system").iterator(chunk_size=FEATURE_CHUNK))

        _once(FeatureChunk, run_id, index, compute)
        return _last_part_done(run_id, FeatureChunk, "featured", start=0.0, span=0.05)


def run_batch(run_id: int) -> MatchRun:
    """Re-resolve a whole domain: prepare its candidate pairs, score them in shards, then settle.

    Each shard is a task of its own (`score_shard`), so the scoring spreads over every worker; the
    last shard to finish enqueues the settling (`settle_batch`): clustering, reconciling golden
    records, blocking keys and review tasks. Run in-process (eager), it has all finished on return.
    """
    from .tasks import score_shard  # the tasks module imports this one

    with _failing(run_id):
        run = _running(run_id)  # delivered again after the run ended: nothing to prepare
        shards = _prepare_batch(run) if run is not None else 0
    for index in range(shards):
        score_shard.delay(run_id, index)
    return MatchRun.objects.get(pk=run_id)


def _runs() -> QuerySet[MatchRun]:
    """Runs without their model, which their steps read only to score (at 300,000 records 6 MB of
    JSON, 0.14 s to read: for each of a run's hundreds of chunk tasks, twice)."""
    return MatchRun.objects.defer("scoring")


def _running(run_id: int) -> MatchRun | None:
    """The run, unless it has finished or failed: a step delivered late has nothing left to do."""
    run = _runs().get(pk=run_id)
    return run if run.status == MatchRun.Status.RUNNING else None


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    """Record in `seconds` how long the block took, as `step`."""
    started = time.perf_counter()
    yield
    seconds[step] = round(time.perf_counter() - started, 3)


@contextmanager
def _failing(run_id: int) -> Iterator[None]:
    """Mark the run failed when a step of it raises, so that `resolve` and the console stop waiting."""
    try:
        yield
    except Exception as exc:
        MatchRun.objects.filter(pk=run_id).update(
            status=MatchRun.Status.FAILED, error=repr(exc), finished_at=timezone.now()
        )
        raise


def _held_goldens(domain: str) -> dict[int, str | None]:
    """The golden ID each source record of `domain` holds (None: none yet)."""
    rows = SourceRecord.objects.filter(domain=domain).values_list("pk", "golden_id")
    return {pk: str(golden_id) if golden_id else None for pk, golden_id in rows.iterator(chunk_size=20000)}


def _prepare_batch(run: MatchRun) -> int:
    """Fix the run's model, store its candidate pairs as shards; the number of shards.

    A model fitted from the records alone (unless EM, which fits on the candidate pairs, is asked
    for) is fitted by ``fit_batch_model`` on another worker while this one finds the pairs.

    Delivered again (its worker process died), a run prepared before is not prepared again: the
    number of its shards is returned, and their tasks, enqueued again, do only what is left. Shards
    that a lost delivery stored before the run recorded them are replaced.
    """
    if run.stats.get("prepared_at"):
        return run.shards.count()
    run.shards.all().delete()
    domain = run.domain
    # Before the collector pauses (normalisers raise and catch exceptions, whose tracebacks form
    # cycles), and streamed: a first batch run computes every record's features, and a million model
    # instances with their payloads held at once took several GiB.
    missing = SourceRecord.objects.filter(domain=domain, features={}).select_related("system")
    ensure_features(missing.iterator(chunk_size=FEATURE_CHUNK))  # all, or what feature chunks left
    # wall time since the run started, feature chunks on other workers included
    featured = round((timezone.now() - run.started_at).total_seconds(), 3)
    steps: dict[str, float] = {}
    with gc_paused():
        config = match_config(domain)
        match_settings, model = load_settings(config)
        fixed_at = config.fitted_at  # the model this run scores with, unless it refits
        # a batch run reads every record anyway: it refits whenever the domain has changed size
        held = SourceRecord.objects.filter(domain=domain).count()
        fit = held >= MIN_RECORDS_TO_FIT and (model is None or model.fitted_records != held)
        beside = fit and not match_settings.em_iterations
        if beside:
            from .tasks import fit_batch_model  # the tasks module imports this one

            fit_batch_model.delay(run.pk)  # the task's ID is its claim
        with _timed(steps, "reading"):
            records = held_features(domain)
        if fit:
            model = None
        elif model is None:
            model = MatchModel.from_settings(match_settings)
        prepared = prepare_batch(records, match_settings, model=model, fit=not beside)
        with _timed(steps, "shards"):
            if fit and not beside:
                _store_model(config, prepared.model)
                fixed_at = config.fitted_at
            shards = _store_shards(run, prepared)
            if not beside:
                # within the timed step: the model's JSON is megabytes at 300,000 records
                scoring = {"settings": match_settings.to_dict(), "model": prepared.model.to_dict()}
                MatchRun.objects.filter(pk=run.pk).update(scoring=scoring)
        stats = {**prepared.stats, "shards": shards}
        stats["model_fitted_at"] = fixed_at.isoformat() if fixed_at else None
        if beside:
            with _timed(steps, "model"):
                stats.update(_fitted_beside(run, records))
        stats["prepared_at"] = time.time()
        stats["seconds"].update(steps, features=featured)
        MatchRun.objects.filter(pk=run.pk).update(stats=stats, progress=0.1)
        return shards


def fit_batch_model(run_id: int, claimant: str) -> None:
    """Fit a batch run's model from its domain's records, beside the worker that finds the run's
    candidate pairs. A fit begun by that worker, or by another delivery of this task, is not begun
    again; `claimant` (the task's ID) is this delivery's: delivered again because the process that
    began the fit died, it begins it anew."""
    with _failing(run_id):
        run = _running(run_id)
        if run is not None and _claim_fit(run_id, claimant):
            with gc_paused():
                _fit_run_model(run, held_features(run.domain))


def _claim_fit(run_id: int, claimant: str) -> bool:
    """True for the one caller that begins fitting the run's model, and for its own task delivered
    again: a task is delivered again only when the process running it died."""
    with transaction.atomic():
        run = _runs().select_for_update().get(pk=run_id)
        if run.stats.get("fitting") not in (None, claimant):
            return False
        run.stats = {**run.stats, "fitting": claimant}
        run.save(update_fields=["stats"])
        return True


def _fit_run_model(run: MatchRun, records: dict[int, dict[str, Any]]) -> None:
    """Fit the run's model on `records` (``em.fit`` from the records alone), store it as the domain's
    and as the one the run scores with."""
    started = time.perf_counter()
    config = match_config(run.domain)
    match_settings = load_settings(config)[0]
    model, info = _fit_and_store(config, match_settings, records)
    with transaction.atomic():
        fresh = _runs().select_for_update().get(pk=run.pk)
        fresh.scoring = {"settings": match_settings.to_dict(), "model": model.to_dict()}
        fresh.stats = {
            **fresh.stats,
            "em": info,
            "model_fitted_at": config.fitted_at.isoformat(),
            "model_seconds": round(time.perf_counter() - started, 3),
        }
        fresh.save(update_fields=["scoring", "stats"])


def _fitted_beside(run: MatchRun, records: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Wait for the run's model fitted beside, or fit it here if no worker has begun; what the fit
    recorded in the run's statistics."""
    if _claim_fit(run.pk, PREPARING):
        _fit_run_model(run, records)
    waited = 0.0
    while "model_fitted_at" not in (fresh := _runs().get(pk=run.pk)).stats:
        if fresh.status != MatchRun.Status.RUNNING:
            raise RuntimeError("the run ended while its model was fitted")
        if waited > django_settings.MDM_BATCH_FIT_WAIT:
            raise RuntimeError(f"the run's model was not fitted within {waited:.0f} s")
        time.sleep(FIT_POLL)
        waited += FIT_POLL
    # "fitting" too: a fit task delivered after this must not begin another
    return {k: fresh.stats[k] for k in ("fitting", "em", "model_fitted_at", "model_seconds")}


def _store_shards(run: MatchRun, prepared: PreparedBatch) -> int:
    """Store the run's candidate pairs as shards of ``MDM_BATCH_SHARD_PAIRS``; how many."""
    size = django_settings.MDM_BATCH_SHARD_PAIRS
    # in name order: a shard's pairs share their records, so each shard loads fewer features
    pairs = locality_order(prepared.pairs, prepared.sort_keys)
    shards = max(1, math.ceil(len(pairs) / size))
    # a few shards per statement: bulk_create holds all it is given
    for first in range(0, shards, SHARDS_PER_INSERT):
        MatchShard.objects.bulk_create(
            MatchShard(run=run, index=i, pairs=pairs_to_bytes(pairs[i * size : (i + 1) * size]))
            for i in range(first, min(first + SHARDS_PER_INSERT, shards))
        )
    return shards


def _scoring_of(run: MatchRun) -> tuple[MatchSettings, MatchModel]:
    return MatchSettings.from_dict(run.scoring["settings"]), MatchModel.from_dict(run.scoring["model"])


@gc_paused()
def score_shard(run_id: int, index: int) -> bool:
    """Score one shard of a batch run's pairs; True when it was the last and the run may settle.

    A shard already scored (its task delivered twice) is not scored or counted again.
    """
    with _failing(run_id):
        run = _running(run_id)
        if run is None:
            return False
        shard = MatchShard.objects.get(run_id=run_id, index=index)
        if shard.done_at is None:
            match_settings, model = _scoring_of(run)
            pairs = pairs_from_bytes(shard.pairs)
            feats = features_of(np.unique(pairs).tolist())
            edges = shard_edges(model, feats, pairs, match_settings.lower_threshold)
            MatchShard.objects.filter(pk=shard.pk).update(edges=edges_to_bytes(edges), done_at=timezone.now())
        return _claim_settling(run_id)


def _claim_settling(run_id: int) -> bool:
    """Count the run's finished shards; True for the one caller that sees them all done."""
    return _last_part_done(run_id, MatchShard, "settling", start=0.1, span=0.4)


def _once(
    part: type[FeatureChunk | GoldenChunk], run_id: int, index: int, work: Callable[[Any], None]
) -> None:
    """Do `work` on one chunk of a run unless it is done already (its task delivered twice), and mark
    it done in the same transaction; the chunk's row lock keeps two deliveries from working at once."""
    with transaction.atomic():
        chunk = part.objects.select_for_update().get(run_id=run_id, index=index)
        if chunk.done_at is None:
            work(chunk)
            part.objects.filter(pk=chunk.pk).update(done_at=timezone.now())


def _last_part_done(
    run_id: int, part: type[FeatureChunk | MatchShard | GoldenChunk], step: str, *, start: float, span: float
) -> bool:
    """Count the run's finished parts (feature chunks, shards or golden chunks); True for the one
    caller that sees them all done, which marks `step` as taken. Progress moves from `start` by
    `span`."""
    with transaction.atomic():
        # The lock orders the parts' last steps: of two finishing together, the second sees both.
        run = _runs().select_for_update().get(pk=run_id)
        parts = part.objects.filter(run_id=run_id)
        done, total = parts.filter(done_at__isnull=False).count(), parts.count()
        if done < total or run.stats.get(step):
            run.progress = start + span * done / max(total, 1)
            run.save(update_fields=["progress"])
            return False
        run.stats = {**run.stats, step: True}
        run.progress = start + span
        run.save(update_fields=["stats", "progress"])
        return True


def settle_batch_run(run_id: int) -> int:
    """Cluster the scored edges of a batch run and make golden records and review tasks follow.

    The golden records of clusters none of whose records held one, and the blocking keys of every
    record, are left to `create_golden_chunk` tasks, one per chunk; the number of chunks is returned
    (0: the run has finished).
    """
    with _failing(run_id):
        run = _running(run_id)
        if run is None:
            return 0
        written = run.golden_chunks.count()
        if written:
            return written  # delivered again once its chunks were written: they are only enqueued again
        domain = run.domain
        result, held = _cluster_batch_run(run)
        fresh: list[list[int]] = []
        steps = result.stats["settling_seconds"] = {}
        # With the collector running again: writing golden records makes model instances in reference
        # cycles (with it paused, the settling process reached 14 GiB at a million records).
        with _timed(steps, "reconcile"):
            _reconcile(domain, result.clusters, held, reason=_batch_reason(run), run=run, fresh=fresh)
        with _timed(steps, "reviews"):
            _replace_reviews(domain, result.reviews)
        stats = {**result.stats, "settled_at": time.time()}
        stats.update(clusters=len(result.clusters), reviews=len(result.reviews))
        size = django_settings.MDM_BATCH_GOLDEN_CHUNK
        groups = [fresh[i : i + size] for i in range(0, len(fresh), size)]
        spans = _key_spans(held)
        chunks = max(len(groups), len(spans))
        GoldenChunk.objects.bulk_create(
            GoldenChunk(run=run, index=i, groups=part, keys=span)
            for i, (part, span) in enumerate(zip_longest(groups, spans, fillvalue=[]))
        )
        MatchRun.objects.filter(pk=run.pk).update(stats=stats)
        if not chunks:
            _finish_batch_run(run_id)
        return chunks


def _batch_reason(run: MatchRun) -> str:
    return f"{REASON}: batch run {run.pk}"


def create_golden_chunk(run_id: int, index: int) -> None:
    """Write one chunk of a batch run's new golden records and blocking keys; the last chunk finishes
    the run.

    A chunk already written (its task delivered twice) is not written or counted again.
    """
    with _failing(run_id):
        run = _running(run_id)
        if run is None:
            return

        def write(chunk: GoldenChunk) -> None:
            _create_goldens(run.domain, chunk.groups, reason=_batch_reason(run))
            if chunk.keys:
                _store_keys_between(run.domain, *chunk.keys)

        _once(GoldenChunk, run_id, index, write)
        if _last_part_done(run_id, GoldenChunk, "finishing", start=0.6, span=0.35):
            _finish_batch_run(run_id)


def _finish_batch_run(run_id: int) -> None:
    run = _runs().get(pk=run_id)
    steps = run.stats.get("settling_seconds", {})
    steps["chunks"] = round(time.time() - run.stats.get("settled_at", time.time()), 3)
    # Without fresh statistics the planner misjudged the rows incremental resolution looks up:
    # it sorted a whole oversized block for a neighbourhood of a few rows (20 ms instead of 0.1)
    # and filtered every open review task instead of using the index on the pair.
    with _timed(steps, "statistics"):
        planner_stats.refresh(BlockingKey, SourceRecord, GoldenRecord, ReviewTask)
    run.feature_chunks.all().delete()
    run.shards.all().delete()
    run.golden_chunks.all().delete()
    stats = {
        k: v
        for k, v in run.stats.items()
        if k not in ("featured", "fitting", "settling", "finishing", "settled_at", "prepared_at")
    }
    stats["settling_seconds"] = steps
    MatchRun.objects.filter(pk=run_id).update(
        status=MatchRun.Status.DONE, progress=1.0, finished_at=timezone.now(), stats=stats
    )
    # Incremental resolution refitted the model after this run fixed the one it scores with: the
    # rematch that refit asked for was not started beside this run, so it starts now. The stored
    # fitting times are compared, not clocks of two machines.
    fitted_at = MatchConfig.objects.filter(domain=run.domain).values_list("fitted_at", flat=True).first()
    now_fitted = fitted_at.isoformat() if fitted_at else None
    refitted = "model_fitted_at" in run.stats and now_fitted != run.stats["model_fitted_at"]
    if refitted and django_settings.MDM_REMATCH_ON_REFIT:
        transaction.on_commit(lambda: rematch(run.domain))


@gc_paused()
def _cluster_batch_run(run: MatchRun) -> tuple[BatchResult, dict[int, str | None]]:
    """Clusters and reviews from a run's scored edges; the golden ID each record holds.

    Only the records that an edge or a judgement touches are loaded with their features; the others
    can only stay alone (at a million records, features for all took 5.5 GiB).
    """
    scored_seconds = round(time.time() - run.stats.get("prepared_at", time.time()), 3)
    started = time.perf_counter()
    match_settings, model = _scoring_of(run)
    held = _held_goldens(run.domain)
    # only the edges, one shard at a time
    scored = run.shards.order_by("index").values_list("edges", flat=True)
    edges: list[tuple[int, int, float]] = []
    # what clustering asks of the edges, weighed with them by the shard tasks
    memo: dict[tuple[int, int], PairVerdict] = {}
    for stored in scored.iterator(chunk_size=4):
        for a, b, *verdict in edges_from_bytes(stored):
            edges.append((a, b, verdict[0]))
            memo[(a, b)] = PairVerdict(*verdict)
    must, cannot = judgement_pairs(run.domain)
    linked = {x for a, b, _ in edges for x in (a, b)} | {x for pair in must | cannot for x in pair}
    feats = features_of(linked)
    prepared = PreparedBatch(feats=feats, pairs=np.zeros((0, 2), np.int64), model=model, stats=run.stats)
    prepared.stats["seconds"]["scoring"] = scored_seconds
    prepared.stats["seconds"]["edges"] = round(time.perf_counter() - started, 3)
    result = settle_batch(
        prepared, edges, match_settings, must_link=must, cannot_link=cannot, memo=memo, records=held
    )
    return result, held


def _set_progress(run: MatchRun, progress: float) -> None:
    MatchRun.objects.filter(pk=run.pk).update(progress=progress)


def _reconcile(
    domain: str,
    clusters: list[list[int]],
    held: dict[int, str | None],
    *,
    reason: str,
    run: MatchRun | None = None,
    fresh: list[list[int]] | None = None,
) -> None:
    """Make golden records follow the clusters while keeping golden IDs stable.

    A cluster keeps the golden ID most of its members already have (the lowest ID on a tie, so a
    re-run decides the same); a cluster whose members held no golden record, or only ones that a
    larger cluster kept, gets a new golden ID (a split). A golden record left with no members
    retires into the one that took most of them (a merge). Writes go in bulk, in chunks.

    With `fresh`, the clusters none of whose members held a golden record are appended to it instead
    of written (`_create_goldens` writes them): no merge or rebuild here depends on them.
    """
    claimed: set[str] = set()
    new_groups: list[list[int]] = []
    moving_to: dict[str, list[int]] = defaultdict(list)
    target: dict[int, str | int] = {}
    for members in sorted(clusters, key=len, reverse=True):
        votes: dict[str, int] = defaultdict(int)
        for pk in members:
            if held.get(pk):
                votes[held[pk]] += 1
        if fresh is not None and not votes:
            fresh.append(members)
            continue
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        keep = next((g for g, _ in ranked if g not in claimed), None)
        if keep is None:
            target.update(dict.fromkeys(members, len(new_groups)))
            new_groups.append(members)
            continue
        claimed.add(keep)
        target.update(dict.fromkeys(members, keep))
        moving_to[keep].extend(pk for pk in members if held.get(pk) != keep)
    touched = {held[pk] for pk, goes in target.items() if held.get(pk) and held[pk] != goes}
    if run is not None:
        _set_progress(run, 0.55)
    new_ids = _create_goldens(domain, new_groups, reason=reason)
    with transaction.atomic():
        for keep, pks in moving_to.items():
            if pks:
                golden_service.link_records(
                    GoldenRecord(pk=keep), SourceRecord.objects.filter(pk__in=pks), reason=reason
                )
        for old_id in sorted(touched - claimed):
            # Every member left this golden record: it retires into the one most of them joined.
            went = Counter(target[pk] for pk, was in held.items() if was == old_id)
            goes = went.most_common(1)[0][0]
            survivor = GoldenRecord.objects.get(pk=new_ids[goes] if isinstance(goes, int) else goes)
            golden_service.merge(survivor, [GoldenRecord.objects.get(pk=old_id)], reason=reason)
        golden_service.rebuild_many((claimed | touched) & (set(moving_to) | touched), reason=reason)


def _create_goldens(domain: str, groups: list[list[int]], *, reason: str) -> list[str]:
    """A new golden record for each group of source records; their IDs, in order."""
    # only the new IDs are kept: a million-record run creates hundreds of thousands of golden records
    new_ids: list[str] = []
    for start in range(0, len(groups), GOLDEN_WRITES):
        chunk = groups[start : start + GOLDEN_WRITES]
        # without the payload and features, which golden records do not read (reading them took 10 of
        # _reconcile's 35 s at 100,000 records, 7 s without)
        records = (
            SourceRecord.objects.filter(pk__in=[pk for group in chunk for pk in group])
            .select_related("system")
            .defer("raw", "features")
        )
        by_pk = {r.pk: r for r in records}
        with transaction.atomic():
            created = golden_service.create_many(
                domain, [[by_pk[pk] for pk in g] for g in chunk], reason=reason
            )
            new_ids += [str(g.pk) for g in created]
    return new_ids


def _key_spans(held: Iterable[int]) -> list[list[int]]:
    """Spans of record IDs, `MDM_BATCH_KEYS_CHUNK` records each, that together cover every ID:
    rewriting the keys of each span leaves none of a record that is gone."""
    ids = sorted(held)
    size = django_settings.MDM_BATCH_KEYS_CHUNK
    firsts = ids[size::size]
    lows = [0, *firsts]
    highs = [*(first - 1 for first in firsts), LAST_ID]
    # a domain without records: one span, so that keys left by records gone are deleted all the same
    return [[low, high] for low, high in zip(lows, highs, strict=True)] if ids else [[0, LAST_ID]]


def _store_keys_between(domain: str, low: int, high: int) -> None:
    """Rewrite the blocking keys of the domain's records with IDs from `low` to `high`."""
    BlockingKey.objects.filter(domain=domain, record__gte=low, record__lte=high).delete()
    ids = SourceRecord.objects.filter(domain=domain, pk__range=(low, high)).values_list("pk", flat=True)
    rows = [
        row
        for pk, features in features_of(ids).items()
        for row in _key_rows(domain, pk, blocking_keys(domain, features))
    ]
    if connection.vendor == "postgresql":
        # COPY: a batch run writes every key of the domain (1.4 million at 100,000 records), and
        # building model objects for bulk_create took most of its 96 s. Through a temporary table, so
        # that the keys incremental resolution wrote for a record of the span since the delete above
        # are kept rather than failing the run (28 % more time than COPY into the table itself).
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE keys_in AS SELECT domain, key, record_id, sort FROM {_TABLE}"
                " WITH NO DATA"
            )
            with cursor.cursor.copy("COPY keys_in (domain, key, record_id, sort) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {_TABLE} (domain, key, record_id, sort) SELECT domain, key, record_id, sort"
                " FROM keys_in ON CONFLICT (record_id, key) DO NOTHING"
            )
            # dropped here, not at commit: run in-process, chunks may share one transaction
            cursor.execute("DROP TABLE keys_in")
    else:
        # one prepared INSERT for every row: with a model instance each, the chunks that write the
        # labelled set's keys (24,705 records, 313,000 keys) took 9.0 s, this way 3.8 s
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {_TABLE} (domain, key, record_id, sort) VALUES (%s, %s, %s, %s)", rows
            )


def _replace_reviews(domain: str, reviews: list[tuple[int, int, Any]]) -> None:
    """Supersede the domain's open reviews with these, in bulk (one by one took 54 s for 8,000)."""
    ReviewTask.objects.filter(domain=domain, status=ReviewTask.Status.OPEN).update(
        status=ReviewTask.Status.SUPERSEDED
    )
    pairs = list({tuple(sorted((a, b))): score for a, b, score in reviews}.items())
    for start in range(0, len(pairs), 2000):
        chunk = pairs[start : start + 2000]
        ids = {x for (left, right), _ in chunk for x in (left, right)}
        judged = set(Judgement.objects.filter(left__in=ids, right__in=ids).values_list("left", "right"))
        # a first batch run asks before its chunk tasks write the records' golden records: those
        # records have none yet, and a new golden record has no contract to make a task urgent
        golden_of = {
            pk: str(golden_id)
            for pk, golden_id in SourceRecord.objects.filter(pk__in=ids, golden__isnull=False).values_list(
                "pk", "golden_id"
            )
        }
        urgent = customers_with_open_contract(golden_of.values())
        ReviewTask.objects.bulk_create(
            ReviewTask(
                domain=domain,
                left_id=left,
                right_id=right,
                score=score.weight,
                probability=score.probability,
                explanation=score.to_dict(),
                impact=int(golden_of.get(left) in urgent or golden_of.get(right) in urgent),
            )
            for (left, right), score in chunk
            if (left, right) not in judged
        )


def search(domain: str, attributes: dict[str, Any], *, limit: int = 5) -> list[dict[str, Any]]:
    """Search before create: the golden records a new record would match, best first, explained.

    The record is not stored; its blocking keys find candidates through the index, as for an
    incremental match, and each golden record is scored by its best-matching member.
    """
    match_settings, model = settings_and_model(domain)
    feats = features_for(attributes.get("system") or "", domain, attributes)
    ids = _candidates_of(domain, {0: blocking_keys(domain, feats)}, match_settings)[0]
    best: dict[str, tuple[Any, int]] = {}
    held = SourceRecord.objects.filter(pk__in=ids, golden__isnull=False).values_list(
        "pk", "features", "golden_id"
    )
    for pk, features, golden_id in held:
        score = model.score(feats, features)
        if score.weight >= match_settings.lower_threshold and (
            str(golden_id) not in best or score.weight > best[str(golden_id)][0].weight
        ):
            best[str(golden_id)] = (score, pk)
    ranked = sorted(best.items(), key=lambda item: -item[1][0].weight)[:limit]
    goldens = GoldenRecord.objects.in_bulk([golden_id for golden_id, _ in ranked])
    return [
        {
            "golden_id": golden_id,
            "name": goldens[golden_id].name if golden_id in goldens else "",
            "decision": "match" if score.weight >= match_settings.upper_threshold else "possible",
            "matched_record": pk,
            **score.to_dict(),
        }
        for golden_id, (score, pk) in ranked
    ]
