"""Identity resolution end to end, in batch and one record at a time, with the same rules.

Batch (``resolve_batch``): blocking keys → candidate pairs (oversized blocks sub-blocked) → model
(fitted without labels unless one is given, ``matching.em``) → score every candidate pair →
strongest-edge-first clustering with cluster-level checks (``matching.cluster``) → review tasks for
the pairs between the thresholds, or refused for weak linkage or ambiguity, whose clusters stayed
apart. Reviews are deduplicated: one per
pair of clusters (the best pair), only to a record's best candidate, and at most one open review per
record (strongest first); a pair below the link threshold is only asked about if its two clusters could
become one (``check_merge``), since otherwise the other members already answer "no".

Ambiguity: a *sparse* record (no tax ID, phone, address or person identifiers — a support ticket's
name, domain and country) whose strong links (those not in hard conflict) include two records that
are incompatible with each other (namesakes) cannot be told apart from data; it is never auto-linked
and goes to review — unless it is drawn equally (within ``TIE_MARGIN``) to both, when the data favour
neither and it stays apart without a review. The test is made per record from its links, so batch
and incremental apply it the same way (whatever records are held at the time).

Incremental: the hub (``matching.services._resolve_chunk``) clusters a new record's neighbourhood
with ``resolve_batch`` (the same rules, on the records it scores against, their golden records'
members and a kept-apart sparse record's rivals), so both modes decide alike.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from matching import em
from matching.blocking import blocking_keys, candidate_pairs, pair_rows, sort_key
from matching.cluster import check_merge, cluster, pair_key, parent_conflict
from matching.columns import weigh_with_levels
from matching.features import features
from matching.model import MatchModel, Score
from matching.settings import MatchSettings

_FEATURE_MARKERS = ("compact", "customer_ref", "contract_ref", "product_codes")


# Term frequencies counted over a handful of records make every shared name look common; below
# this size the settings' priors stand alone, in both modes.
MIN_RECORDS_FOR_TF = 1000


@dataclass
class BatchResult:
    clusters: list[list[int]]
    reviews: list[tuple[int, int, Score]]
    model: MatchModel
    stats: dict[str, Any] = field(default_factory=dict)


def _as_features(domain: str, record: Mapping[str, Any]) -> dict[str, Any]:
    if any(k in record for k in _FEATURE_MARKERS):
        # held records carry features: used as they are (a copy of each took 0.8 GiB at a million)
        return record if isinstance(record, dict) else dict(record)
    return features(domain, record)


class PairVerdict(NamedTuple):
    """What clustering needs of a scored pair. A ``Score`` with its explanation takes about twenty
    times the memory; it is rebuilt (``_Scorer.explain``) only for the pairs a decision shows."""

    weight: float
    evidence: float
    conflicting: bool  # a hard conflict, unless a steward must-linked the pair
    identified: bool  # the two share an identifier (see ``shares_identifier``)


class _Scorer:
    """Memoised pair scoring and conflict test over a fixed set of feature dicts."""

    def __init__(self, model: MatchModel, feats: Mapping[int, dict[str, Any]], must: set[tuple[int, int]]):
        self.model = model
        self.feats = feats
        self.must = must
        self.cache: dict[tuple[int, int], PairVerdict] = {}

    def explain(self, a: int, b: int) -> Score:
        k = pair_key(a, b)
        return self.model.score(self.feats[k[0]], self.feats[k[1]])

    def score(self, a: int, b: int) -> PairVerdict:
        k = pair_key(a, b)
        v = self.cache.get(k)
        if v is None:
            fa, fb = self.feats[k[0]], self.feats[k[1]]
            weight, evidence, levels = self.model.weigh(fa, fb)
            conflicting = bool(self.model.conflicts(levels)) or parent_conflict(fa, fb)
            v = PairVerdict(weight, evidence, conflicting, shares_identifier(levels))
            self.cache[k] = v
        return v

    def conflict(self, a: int, b: int, s: PairVerdict) -> bool:
        return s.conflicting and pair_key(a, b) not in self.must


# a record carrying none of these identifies its party by name, domain and country alone
_IDENTIFYING = ("tax_id", "phone", "street", "postal", "national_id", "birth_date")
MAX_RIVALS = 30
TIE_MARGIN = 1.0  # bits: a sparse record drawn this equally to two namesakes favours neither


# agreement levels that identify one party by themselves: the same tax ID, phone, street address
# or national ID (a name and a web domain are shared by namesakes and subsidiaries)
IDENTIFYING_LEVELS = {"tax_id": "exact", "phone": "exact", "address": "full", "national_id": "exact"}


def shares_identifier(levels: Mapping[str, str]) -> bool:
    return any(levels.get(f) == level for f, level in IDENTIFYING_LEVELS.items())


# what a record's features say of where it comes from, not of the party
_BOOKKEEPING = frozenset({"source_id", "system", "party_type", "parent_ref"})


def information(f: Mapping[str, Any]) -> int:
    """How much a record tells of its party: the features it fills."""
    return sum(1 for k, v in f.items() if v and k not in _BOOKKEEPING)


def is_sparse(f: Mapping[str, Any]) -> bool:
    return not any(f.get(k) for k in _IDENTIFYING)


def rivalry(strong: list[tuple[int, float]], scorer: _Scorer, settings: MatchSettings) -> str | None:
    """Do the records a sparse record links to (``(id, weight)``, strongest first) include two that
    are incompatible — namesakes it cannot tell apart? Then it is ``"ambiguous"`` (a steward's call, in
    any order), or ``"undecidable"`` when it links to two incompatible records equally (within
    ``TIE_MARGIN``): the data favour neither, so it stays apart without a review."""
    if len(strong) < 2:
        return None
    near = [(x, w) for x, w in strong if w >= strong[0][1] - settings.ambiguity_margin][:MAX_RIVALS]
    found = None
    for i, (x, wx) in enumerate(near):
        for y, wy in near[i + 1 :]:
            s = scorer.score(x, y)
            if s.evidence < settings.cluster_min_weight or scorer.conflict(x, y, s):
                if i == 0 and wx - wy < TIE_MARGIN:
                    return "undecidable"
                found = "ambiguous"
    return found


@dataclass
class PreparedBatch:
    """A batch run up to its candidate pairs: features, pairs and the model to score them with."""

    feats: dict[int, dict[str, Any]]
    pairs: np.ndarray  # rows (a, b), a < b, sorted
    model: MatchModel | None  # None: to be fitted elsewhere (a batch run fits it on another worker)
    stats: dict[str, Any]
    sort_keys: dict[int, str] = field(default_factory=dict)  # see blocking.sort_key


def prepare_batch(
    records: dict[int, dict],
    settings: MatchSettings,
    *,
    model: MatchModel | None = None,
    fit: bool = True,
) -> PreparedBatch:
    """Features, blocking keys, candidate pairs and a model (fitted by ``em.fit`` unless one is given,
    or, with `fit` false and none given, left to the caller)."""
    t0 = time.perf_counter()
    feats = {rid: _as_features(settings.domain, rec) for rid, rec in records.items()}
    keys = {rid: blocking_keys(settings.domain, f) for rid, f in feats.items()}
    t_feats = time.perf_counter()
    block_stats: dict[str, Any] = {}
    pairs = candidate_pairs(keys, settings.max_block, window=settings.window, stats=block_stats)
    t_block = time.perf_counter()
    fit_info: dict[str, Any] = {}
    if model is None and fit:
        model = MatchModel.from_settings(settings)
        fit_info = em.fit(model, feats, pairs)
    elif model is not None and not model.tf_default and len(feats) >= MIN_RECORDS_FOR_TF:
        # a copy: the caller's model may be a process's cached one, which these records must not refit
        model = replace(model)
        model.fit_term_frequencies(feats.values())
    t_fit = time.perf_counter()
    stats = {
        "candidate_pairs": len(pairs),
        "blocking": block_stats,
        "em": fit_info,
        "seconds": {
            "features_keys": round(t_feats - t0, 3),
            "blocking": round(t_block - t_feats, 3),
            "fit": round(t_fit - t_block, 3),
        },
    }
    sort_keys = {rid: sort_key(ks) for rid, ks in keys.items()}
    return PreparedBatch(feats=feats, pairs=pairs, model=model, stats=stats, sort_keys=sort_keys)


def score_pairs(
    weight: Callable[[int, int], float], pairs: Iterable[tuple[int, int]], lower: float
) -> list[tuple[int, int, float]]:
    """The candidate pairs worth keeping, as edges (a, b, weight): those at or above `lower`.

    Independent per pair, so a batch run can split its pairs across workers.
    """
    edges = []
    for a, b in pairs:
        w = weight(a, b)
        if w >= lower:
            edges.append((a, b, w))
    return edges


Edge = tuple[int, int, float, float, bool, bool]  # a, b and the pair's PairVerdict


def shard_edges(
    model: MatchModel, feats: Mapping[int, dict[str, Any]], pairs: Sequence[tuple[int, int]], lower: float
) -> list[Edge]:
    """The pairs of one shard worth keeping, as edges (a, b, then their verdict): those at or above
    `lower`. The verdicts come with the weights (see `bulk_verdicts`), on every worker, so that
    settling, one process, does not weigh its edges again."""
    verdicts = bulk_verdicts(model, feats, pairs, at_least=lower)
    return [(a, b, *verdict) for (a, b), verdict in verdicts.items()]


def bulk_verdicts(
    model: MatchModel,
    feats: Mapping[int, dict[str, Any]],
    pairs: Sequence[tuple[int, int]],
    *,
    at_least: float = -math.inf,
) -> dict[tuple[int, int], PairVerdict]:
    """What clustering asks of these pairs, for all of them at once (see `matching.columns`): the
    verdicts `_Scorer.score` gives one by one, keyed by ``pair_key``; only those weighing at least
    `at_least`."""
    keyed, weights, evidence, combos, inverse = weigh_with_levels(model, feats, pairs, at_least=at_least)
    # conflicts and shared identifiers depend on the levels alone: asked once per combination
    per_combo = [(bool(model.conflicts(levels)), shares_identifier(levels)) for levels in combos]
    # only a record that names a parent can be in a parent conflict: few are
    parented = {pk for pk in set(keyed.ravel().tolist()) if feats[pk].get("parent_ref")}
    verdicts = {}
    for (a, b), w, e, k in zip(
        keyed.tolist(), weights.tolist(), evidence.tolist(), inverse.tolist(), strict=True
    ):
        conflicting, identified = per_combo[k]
        if not conflicting and (a in parented or b in parented):
            conflicting = parent_conflict(feats[a], feats[b])
        verdicts[(a, b)] = PairVerdict(w, e, conflicting, identified)
    return verdicts


def resolve_batch(
    records: dict[int, dict],
    settings: MatchSettings,
    *,
    model: MatchModel | None = None,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
) -> BatchResult:
    """Resolve a whole set of records (raw attributes or features) into clusters and review tasks."""
    prepared = prepare_batch(records, settings, model=model)
    started = time.perf_counter()
    # One memo for scoring and settling: clustering asks again for most of the scored pairs.
    memo = _Scorer(prepared.model, prepared.feats, set())
    weight = lambda a, b: memo.score(a, b).weight  # noqa: E731
    edges = score_pairs(weight, pair_rows(prepared.pairs), settings.lower_threshold)
    prepared.stats["seconds"]["scoring"] = round(time.perf_counter() - started, 3)
    return settle_batch(
        prepared, edges, settings, must_link=must_link, cannot_link=cannot_link, memo=memo.cache
    )


def settle_batch(
    prepared: PreparedBatch,
    edges: list[tuple[int, int, float]],
    settings: MatchSettings,
    *,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    memo: dict[tuple[int, int], PairVerdict] | None = None,
    records: Iterable[int] | None = None,
) -> BatchResult:
    """From the scored edges to clusters and review tasks: ambiguity, clustering, review choice.

    `records` are all the records to cluster (by default those with features); the features need
    only cover the records of the edges and judgements, as the others can only stay alone.
    """
    t_score = time.perf_counter()
    feats, model = prepared.feats, prepared.model
    must = {pair_key(a, b) for a, b in must_link}
    cannot = {pair_key(a, b) for a, b in cannot_link} - must
    scorer = _Scorer(model, feats, must)
    if memo is not None:
        scorer.cache = memo
    strong: dict[int, list[tuple[int, float]]] = {}
    for a, b, w in edges:
        if w >= settings.upper_threshold and not scorer.conflict(a, b, scorer.score(a, b)):
            strong.setdefault(a, []).append((b, w))
            strong.setdefault(b, []).append((a, w))
    ambiguous, undecidable = set(), set()
    for rid, links in strong.items():
        if is_sparse(feats[rid]):
            links.sort(key=lambda x: (-x[1], x[0]))
            verdict = rivalry(links, scorer, settings)
            if verdict:
                ambiguous.add(rid)
            if verdict == "undecidable":
                undecidable.add(rid)

    nodes = list(feats if records is None else records)
    result = cluster(
        nodes,
        edges,
        scorer.score,
        scorer.conflict,
        upper=settings.upper_threshold,
        min_weight=settings.cluster_min_weight,
        mean_weight=settings.cluster_mean_weight,
        must_link=must,
        cannot_link=cannot,
        ambiguity_margin=settings.ambiguity_margin,
        ambiguous=ambiguous,
        identified=lambda a, b: scorer.score(a, b).identified,
        information=lambda rid: information(feats[rid]),
    )
    cluster_of = {rid: i for i, members in enumerate(result.clusters) for rid in members}
    refused_weak = {pair_key(a, b) for a, b, why in result.refused if why in ("weak_link", "ambiguous")}
    best: dict[tuple[int, int], tuple[int, int, float]] = {}
    for a, b, w in edges:
        ca, cb = cluster_of[a], cluster_of[b]
        if ca == cb or pair_key(a, b) in cannot:
            continue
        if w >= settings.upper_threshold and pair_key(a, b) not in refused_weak:
            continue  # refused for a hard conflict or a judgement: the machine is sure
        s = scorer.score(a, b)
        if scorer.conflict(a, b, s):
            continue
        ck = pair_key(ca, cb)
        held = best.get(ck)
        # equal weights: the lower pair, so that the question asked does not depend on edge order
        if held is None or (w, pair_key(held[0], held[1])) > (held[2], pair_key(a, b)):
            best[ck] = (a, b, w)
    # one open review per record at most: strongest first, a pair whose record is already in a review
    # waits (a steward's answer changes the clusters, and the next run asks the next question)
    top: dict[int, float] = {}
    for a, b, w in best.values():
        for x in (a, b):
            top[x] = max(top.get(x, w), w)
    reviews = []
    in_review: set[int] = set()
    review_kinds = {"below_upper": 0, "refused": 0, "incompatible_skipped": 0, "undecidable_skipped": 0}
    for a, b, w in sorted(best.values(), key=lambda e: (-e[2], e[0], e[1])):
        if a in in_review or b in in_review or (w < top[a] and w < top[b]):
            continue  # only to a record's best candidate
        if a in undecidable or b in undecidable:
            review_kinds["undecidable_skipped"] += 1
            continue
        if w < settings.upper_threshold:
            # a pair below the link threshold is worth a steward's time only if the two clusters could
            # become one: if the other members already clearly differ, "no" is the answer
            check = check_merge(
                result.clusters[cluster_of[a]],
                result.clusters[cluster_of[b]],
                scorer.score,
                scorer.conflict,
                cannot=cannot,
                min_weight=settings.cluster_min_weight,
                mean_weight=settings.cluster_mean_weight,
            )
            if not check.ok:
                review_kinds["incompatible_skipped"] += 1
                continue
            review_kinds["below_upper"] += 1
        else:
            review_kinds["refused"] += 1
        in_review.update((a, b))
        reviews.append((a, b, scorer.explain(a, b)))
    t_end = time.perf_counter()
    seconds = {**prepared.stats["seconds"], "clustering": round(t_end - t_score, 3)}
    stats = {
        **prepared.stats,
        "records": len(nodes),
        "edges": len(edges),
        "clusters": len(result.clusters),
        "reviews": len(reviews),
        "refused_merges": len(result.refused),
        "ambiguous_records": len(ambiguous),
        "review_kinds": review_kinds,
        "seconds": {**seconds, "total": round(sum(seconds.values()), 3)},
    }
    return BatchResult(clusters=result.clusters, reviews=reviews, model=model, stats=stats)
