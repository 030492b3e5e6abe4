"""Estimating the Fellegi-Sunter parameters without labels, and refining them with labels.

* ``u`` (how often a level occurs between *non-matching* records) comes from random record pairs,
  which are almost all non-matches: level frequencies over a sample of ``u_sample_pairs`` pairs.
  The few true duplicates a random sample holds (the prior match probability times the pairs) are
  taken off each level's hits in proportion to ``m``: at the agreement levels of strong identifiers
  (tax ID, phone, full address) they are most of the hits, and counting them as non-matches would
  make an agreement look thousands of times more common by chance than it is. Levels left with too
  few hits to estimate (< 5) keep the settings' prior, unless the sample rules it out: fewer than 5
  hits bound u at 5 in the pairs compared (a postal code agreeing with nothing else of the address to
  compare has a prior of 1e-3, and about 1e-4 in the labelled set's random pairs). A field whose
  levels are reached under different conditions (``FieldSpec.stages``: a country as given, or as
  inferred) has u and m estimated within each condition.
* ``m`` (how often a level occurs between *matching* records) comes by default from the pairs of
  records that share an identifying value (``estimate_m``): a field's levels among the pairs that
  another identifier anchors. With ``em_iterations`` set, m and the share of matches among the
  candidate pairs come from expectation-maximisation over the comparison vectors of the blocked
  candidate pairs (Fellegi-Sunter mixture model with conditional independence; ``u`` held fixed, as
  Splink does, which keeps EM from explaining correlated non-matches as matches). The E-step computes
  each pair's match posterior from the summed log-likelihood ratios, the M-step re-estimates ``m`` as
  the posterior-weighted level frequencies, smoothed towards the prior (pseudo-counts) so that no
  level collapses to zero. All of it is vectorised with numpy over an int8 level matrix.
* ``refine`` folds steward judgements in: labelled matches update ``m``, labelled non-matches update
  ``u``, each as extra weighted observations on top of the current estimate.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from matching.compare import identifier_key
from matching.model import DISAGREEING, MatchModel, echo_witnesses
from matching.settings import MISSING, FieldSpec

# fewer hits than this in the random sample estimate nothing: the prior u stands
MIN_HITS = 5


def level_matrix(model: MatchModel, pairs: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> np.ndarray:
    """int8 matrix (pairs x fields) of level indices in each field's level list."""
    fields = model.settings.fields
    index = [{lvl: i for i, lvl in enumerate(f.levels)} for f in fields]
    rows = [[index[j][lvl] for j, lvl in enumerate(model.compare_levels(a, b))] for a, b in pairs]
    if not rows:
        return np.zeros((0, len(fields)), dtype=np.int8)
    return np.asarray(rows, dtype=np.int8)


def _counts(spec: FieldSpec, column: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """How often (or with what total weight) each of the field's levels occurs in a level column."""
    counts = np.bincount(column, weights=weights, minlength=len(spec.levels))
    return {level: float(counts[i]) for i, level in enumerate(spec.levels)}


def _normalised(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    return {k: v / total for k, v in values.items()}


def estimate_u(
    model: MatchModel,
    feats: Mapping[int, dict[str, Any]] | Sequence[dict[str, Any]],
    *,
    n_pairs: int | None = None,
    seed: int = 7,
    gamma: np.ndarray | None = None,
) -> None:
    """Set ``model.u`` from level frequencies among random pairs (or a given level matrix)."""
    if gamma is None:
        # in record order: the sample, and so the run, must not depend on the order a database
        # happened to return the records in
        values = [feats[k] for k in sorted(feats)] if isinstance(feats, Mapping) else list(feats)
        if len(values) < 2:
            return
        rng = random.Random(seed)
        n_pairs = n_pairs or model.settings.u_sample_pairs
        n = len(values)
        sample = []
        for _ in range(n_pairs):
            i, j = rng.randrange(n), rng.randrange(n)
            if i != j:
                sample.append((values[i], values[j]))
        gamma = level_matrix(model, sample)
    for j, spec in enumerate(model.settings.fields):
        counts = _counts(spec, gamma[:, j])
        for group in spec.level_groups():
            total = sum(counts[level] for level in group)
            if total == 0:
                continue
            duplicates = total * model.prior
            u = {}
            for level in group:
                hits = counts[level] - duplicates * model.m[spec.name].get(level, 0.0)
                prior = spec.prior_u.get(level, 1e-6)
                u[level] = hits / total if hits >= MIN_HITS else min(prior, MIN_HITS / total)
            # a new table, not an edit: the model's level weights are cached per table
            model.u[spec.name] = {**model.u[spec.name], **_normalised(u)}


# Fields whose exact agreement identifies one party: the pairs of records that share one of their
# values anchor the estimate of every other field's m.
ANCHORS = ("tax_id", "phone", "national_id")
MAX_ANCHOR_GROUP = 10  # more records sharing one value (a switchboard, a placeholder) anchor nothing
MIN_ANCHORED = 50  # fewer anchored pairs than this in a field's stage: its prior m stands
# a name shared by more records than this (a common one) is left out of the echo u's pairs
MAX_ECHO_GROUP = 50


def estimate_m(
    model: MatchModel,
    feats: Mapping[int, dict[str, Any]],
    *,
    max_pairs: int = 50_000,
    seed: int = 7,
    pseudo_count: float = 200.0,
) -> dict[str, Any]:
    """Set ``model.m`` from the pairs of records that share an identifying value (``ANCHORS``).

    Such pairs are almost all matches (6,818 of the labelled set's 6,901 were), so how often each
    level of another field occurs among them estimates that field's m without labels; each field is
    estimated on the pairs anchored by another field than itself. The settings' prior counts as
    ``pseudo_count`` pairs; each anchored pair counts by its match probability under the current m
    and u (``estimate_u`` comes first). It is the unlabelled m estimate that holds up where EM does
    not (see ``MatchSettings.em_iterations``): EM takes namesakes sharing a name and a web domain
    for matches, and so learns that a different street address is common among matches. Found from
    the records alone, not the candidate pairs, so incremental refits and batch runs estimate alike.
    """
    fields = {spec.name: spec for spec in model.settings.fields}
    anchors = [name for name in ANCHORS if name in fields and "exact" in fields[name].levels]
    pairs: set[tuple[int, int]] = set()
    for name in anchors:
        pairs |= _sharing(feats, identifier_key(fields[name]), MAX_ANCHOR_GROUP)
    ordered = _sample(pairs, max_pairs, seed)
    gamma = level_matrix(model, ((feats[a], feats[b]) for a, b in ordered))
    column = {spec.name: j for j, spec in enumerate(model.settings.fields)}
    identified = {name: gamma[:, column[name]] == fields[name].levels.index("exact") for name in anchors}
    # Each pair counts as much as it is a match by the current m and u: a shared phone or tax ID is
    # shared by other parties too (a switchboard, a group's companies, a generator's copies), and
    # such a pair, differing in everything else, would teach that matches differ.
    post = _posterior(model, gamma, model.prior) if len(gamma) else np.zeros(0)
    estimated = []
    for spec in model.settings.fields:
        others = [mask for name, mask in identified.items() if name != spec.name]
        if not others:
            continue
        anchored = np.logical_or.reduce(others)
        counts = _counts(spec, gamma[anchored, column[spec.name]], weights=post[anchored])
        new_m = dict(model.m[spec.name])
        for group in spec.level_groups():
            seen = sum(counts[level] for level in group)
            if seen < MIN_ANCHORED:
                continue
            prior = _normalised({level: spec.prior_m.get(level, 1e-3) for level in group})
            for level in group:
                # floored as refine floors: a level no anchored pair reached must not weigh minus infinity
                new_m[level] = max(
                    (counts[level] + pseudo_count * prior[level]) / (seen + pseudo_count), 1e-9
                )
            estimated.append(spec.name)
        # a new table, not an edit: the model's level weights are cached per table
        model.m[spec.name] = new_m
    return {"m": "anchored", "anchored_pairs": len(ordered), "m_estimated": sorted(set(estimated))}


def estimate_u_echo(
    model: MatchModel,
    feats: Mapping[int, dict[str, Any]],
    *,
    max_pairs: int = 50_000,
    seed: int = 7,
) -> dict[str, Any]:
    """Set ``model.u_echo``: for each field that echoes another (``FieldSpec.echoes``), how often its
    levels occur among pairs of different parties that agree on the echoed field and disagree on a
    distinguishing field (where ``MatchModel`` weighs it by them).

    The pairs are those of records sharing the echoed field's value (a name), found from the records
    alone as ``estimate_m`` finds its pairs. Of those that disagree on a distinguishing field, each
    counts by how likely it is a non-match judged without the echoing field (the current m and u):
    on the labelled set this gave the domain's u among namesakes as the labels do, to 0.001. A field
    with fewer than ``MIN_ANCHORED`` such pairs has no echo u: its own u stands.
    """
    model.u_echo = {}  # the weights the estimate starts from are the fields' own
    specs = model.settings.fields
    column = {spec.name: j for j, spec in enumerate(specs)}
    found: dict[str, dict[str, float]] = {}
    seen: dict[str, float] = {}
    for spec in specs:
        if spec.echoes not in column:
            continue
        echoed = specs[column[spec.echoes]]
        ordered = sorted(_sharing(feats, identifier_key(echoed), MAX_ECHO_GROUP, most=max_pairs, seed=seed))
        gamma = level_matrix(model, ((feats[a], feats[b]) for a, b in ordered))
        disagree = np.zeros(len(gamma), dtype=bool)
        for name in echo_witnesses(model.settings, spec):
            levels = specs[column[name]].levels
            codes = [levels.index(level) for level in DISAGREEING if level in levels]
            disagree |= np.isin(gamma[:, column[name]], codes)
        own = column[spec.name]
        rows = disagree & (gamma[:, own] != spec.levels.index(MISSING))
        blind = gamma[rows].copy()
        blind[:, own] = spec.levels.index(MISSING)
        counts = _counts(spec, gamma[rows, own], weights=1.0 - _posterior(model, blind, model.prior))
        total = sum(v for level, v in counts.items() if level != MISSING)
        seen[spec.name] = round(total, 1)
        if total < MIN_ANCHORED:
            continue
        u = model.u[spec.name]
        # a level too rare among them to estimate: no more than the pairs allow, as in estimate_u
        found[spec.name] = {
            level: counts[level] / total
            if counts[level] >= MIN_HITS
            else min(u.get(level, 1.0), MIN_HITS / total)
            for level in spec.levels
            if level != MISSING
        }
    model.u_echo = found
    return {
        "u_echo_pairs": seen,
        "u_echo": {k: {lvl: round(p, 4) for lvl, p in v.items()} for k, v in found.items()},
    }


def _sharing(
    feats: Mapping[int, dict[str, Any]], key: str, max_group: int, *, most: int | None = None, seed: int = 7
) -> set[tuple[int, int]]:
    """The pairs of records that share a value of feature `key`, in groups of at most `max_group`;
    with `most`, of groups drawn at random (seeded) up to that many pairs: a name is shared by a
    million records' parties in some 1.5 million pairs, which a set would hold in 300 MB."""
    ids = sorted(feats)
    # grouped by value as arrays: a dict of lists held about 200 bytes a record at a million
    codes, _ = pd.factorize(pd.Series([feats[pk].get(key) or None for pk in ids], dtype=object))
    sizes = np.bincount(codes[codes >= 0]) if len(codes) else np.zeros(0, np.int64)
    shared = np.flatnonzero((sizes > 1) & (sizes <= max_group))
    held = np.flatnonzero(np.isin(codes, shared))
    held = held[np.argsort(codes[held], kind="stable")]
    groups = np.split(held, np.cumsum(sizes[shared])[:-1]) if len(shared) else []
    counts = sizes[shared] * (sizes[shared] - 1) // 2
    if most is not None and counts.sum() > most:
        order = np.random.default_rng(seed).permutation(len(groups))
        groups = [groups[i] for i in np.sort(order[np.cumsum(counts[order]) <= most])]
    pairs: set[tuple[int, int]] = set()
    for group in groups:
        members = [ids[i] for i in group.tolist()]
        pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :])
    return pairs


def _sample(pairs: set[tuple[int, int]], most: int, seed: int) -> list[tuple[int, int]]:
    """The pairs in order, or `most` of them drawn at random (seeded)."""
    ordered = sorted(pairs)
    return sorted(random.Random(seed).sample(ordered, most)) if len(ordered) > most else ordered


def _posterior(model: MatchModel, gamma: np.ndarray, prior: float) -> np.ndarray:
    """Each pair's match probability from its levels' log-likelihood ratios and a prior."""
    llr = np.zeros(gamma.shape[0])
    for j, spec in enumerate(model.settings.fields):
        table = np.array(
            [0.0 if lvl == MISSING else np.log(max(model.m[spec.name].get(lvl, 1e-9), 1e-9))
             - np.log(max(model.u[spec.name].get(lvl, 1e-9), 1e-9)) for lvl in spec.levels]
        )  # fmt: skip
        llr += table[gamma[:, j]]
    logit = np.clip(np.log(prior / (1 - prior)) + llr, -50, 50)
    return 1.0 / (1.0 + np.exp(-logit))


def expectation_maximisation(
    model: MatchModel,
    gamma: np.ndarray,
    *,
    iterations: int | None = None,
    pseudo_count: float = 20.0,
    fixed_fields: Sequence[str] = (),
    tol: float = 1e-5,
) -> dict[str, Any]:
    """Fit ``model.m`` on a level matrix of candidate pairs; return the share of matches and iterations."""
    fields = model.settings.fields
    iterations = iterations if iterations is not None else model.settings.em_iterations
    n = gamma.shape[0]
    if n == 0:
        return {"lambda": 0.0, "iterations": 0}
    lam = 0.1
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007 - reported after the loop
        # E-step: the match posterior of every pair
        post = _posterior(model, gamma, lam)
        new_lam = float(np.clip(post.mean(), 1e-6, 1 - 1e-6))
        # M-step: m as posterior-weighted level frequencies, smoothed towards the prior
        delta = abs(new_lam - lam)
        lam = new_lam
        for j, spec in enumerate(fields):
            if spec.name in fixed_fields:
                continue
            sums = _counts(spec, gamma[:, j], weights=post)
            new_m = dict(model.m[spec.name])
            for group in spec.level_groups():
                present = sum(sums[level] for level in group)
                if present == 0:
                    continue  # nothing seen at this stage: its m stays as it was
                smoothed = {
                    level: (sums[level] + pseudo_count * spec.prior_m.get(level, 1e-3))
                    / (present + pseudo_count)
                    for level in group
                }
                new_m.update(_normalised(smoothed))
            delta = max(delta, max(abs(new_m[k] - model.m[spec.name].get(k, 0.0)) for k in new_m))
            model.m[spec.name] = new_m
        if delta < tol:
            break
    return {"lambda": lam, "iterations": done}


def fit(
    model: MatchModel,
    feats: Mapping[int, dict[str, Any]],
    pairs: np.ndarray,
    *,
    max_pairs: int = 300_000,
    seed: int = 7,
    min_records: int = 1000,
    min_pairs: int = 5000,
) -> dict[str, Any]:
    """Term frequencies, ``u`` from random pairs, and ``m`` from the records sharing an identifier
    (``estimate_m``) or, with ``em_iterations`` set, by EM over (a sample of) the candidate pairs.

    Too small a set says nothing reliable about m and u: below ``min_records`` records (or
    ``min_pairs`` candidate pairs for EM) the settings' priors are kept.
    """
    model.fit_term_frequencies(feats.values())
    if len(feats) < min_records:
        return {"skipped": f"fewer than {min_records} records: priors kept"}
    # u first, with the prior m: estimating m weighs the anchored pairs by u
    estimate_u(model, feats, seed=seed)
    if not model.settings.em_iterations:
        # the candidate pairs' level matrix is EM's input only: 300,000 pairs cost seconds per run
        info = estimate_m(model, feats, seed=seed)
        return {**info, **estimate_u_echo(model, feats, seed=seed)}
    if len(pairs) < min_pairs:
        return {"skipped": f"fewer than {min_pairs} candidate pairs: prior m kept"}
    if len(pairs) > max_pairs:
        pairs = pairs[np.random.default_rng(seed).choice(len(pairs), max_pairs, replace=False)]
    pair_list = pairs.tolist()
    gamma = level_matrix(model, ((feats[a], feats[b]) for a, b in pair_list))
    info = expectation_maximisation(
        model,
        gamma,
        fixed_fields=model.settings.em_fields_fixed,
        pseudo_count=model.settings.em_pseudo_count,
    )
    info["em_pairs"] = len(pair_list)
    return {**info, **estimate_u_echo(model, feats, seed=seed)}


def refine(
    model: MatchModel,
    judgements: Iterable[tuple[dict[str, Any], dict[str, Any], bool]],
    *,
    strength: float = 1.0,
    pseudo_count: float = 200.0,
) -> MatchModel:
    """Adjust m (from pairs judged *match*) and u (from pairs judged *not a match*).

    Each judgement is ``(a_feats, b_feats, is_match)``. The current estimate counts as
    ``pseudo_count`` observations, each judgement as ``strength`` observations, so a handful of
    steward decisions nudge the parameters and many of them dominate.
    """
    labelled = list(judgements)
    for want, table in ((True, model.m), (False, model.u)):
        pairs = [(a, b) for a, b, is_match in labelled if is_match is want]
        if not pairs:
            continue
        gamma = level_matrix(model, pairs)
        for j, spec in enumerate(model.settings.fields):
            counts = _counts(spec, gamma[:, j])
            current = table[spec.name]
            for group in spec.level_groups():
                present = sum(counts[level] for level in group) * strength
                if present == 0:
                    continue
                new = {
                    level: (current.get(level, 1e-6) * pseudo_count + counts[level] * strength)
                    / (pseudo_count + present)
                    for level in group
                }
                current = {**current, **{k: max(v, 1e-9) for k, v in _normalised(new).items()}}
            table[spec.name] = current
    return model
