"""Clustering scored pairs into entities without chaining.

Edges (pairs at or above the link threshold) are taken strongest first. Two clusters merge only if
the merge is supported against *all* members, not just the two records of the edge:

* no pair across the two clusters is a steward ``cannot_link``;
* no pair across them is in hard conflict — two different tax IDs / national IDs / birth dates, or
  one record is the other's parent (a subsidiary is never merged into its parent);
* no pair across them has field evidence (weight without the prior) below ``min_weight`` — they
  clearly differ; a pair that merely has little to compare (a ticket's name against a ledger's full
  record) is no objection — and the mean weight of all cross pairs is at least ``mean_weight``
  (average linkage).

So A~B and B~C never pull A and C together when A and C clearly differ. Steward ``must_link`` pairs
are unioned first and bind: conflicts inside a must-linked group are accepted. Very large clusters
are checked on a deterministic sample of cross pairs to keep the cost bounded. The same
``check_merge`` serves the incremental path (one new record against a candidate cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

PairScore = Callable[[int, int], Any]  # returns an object with .weight and .evidence
IsConflict = Callable[[int, int, Any], bool]

MAX_CROSS_CHECK = 400


def pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def parent_conflict(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """One record names the other (same system, when known) as its parent."""
    for x, y in ((a, b), (b, a)):
        ref = x.get("parent_ref")
        if ref and ref == y.get("source_id"):
            sx, sy = x.get("system"), y.get("system")
            if not sx or not sy or sx == sy:
                return True
    return False


@dataclass
class MergeCheck:
    ok: bool
    reason: str = ""
    mean: float = 0.0
    minimum: float = 0.0


def check_merge(
    left: Sequence[int],
    right: Sequence[int],
    pair_score: PairScore,
    is_conflict: IsConflict,
    *,
    cannot: set[tuple[int, int]],
    min_weight: float,
    mean_weight: float,
) -> MergeCheck:
    """May the clusters ``left`` and ``right`` become one? (see module docstring)."""
    cross = [(a, b) for a in left for b in right]
    if len(cross) > MAX_CROSS_CHECK:
        step = len(cross) / MAX_CROSS_CHECK
        cross = [cross[int(i * step)] for i in range(MAX_CROSS_CHECK)]
    for a, b in cross:
        if pair_key(a, b) in cannot:
            return MergeCheck(False, "cannot_link")
    total, lowest = 0.0, float("inf")
    for a, b in cross:
        s = pair_score(a, b)
        if is_conflict(a, b, s):
            return MergeCheck(False, "conflict")
        total += s.weight
        lowest = min(lowest, s.evidence)
    mean = total / len(cross) if cross else 0.0
    if lowest < min_weight:
        return MergeCheck(False, "weak_link", mean, lowest)
    if mean < mean_weight:
        return MergeCheck(False, "weak_link", mean, lowest)
    return MergeCheck(True, "", mean, lowest)


def _drawn_sides(
    cs: _Clusters, ra: int, rb: int, information: Callable[[int], int] | None
) -> list[tuple[int, int]]:
    """The (small, big) readings of an edge between clusters `ra` and `rb`: the smaller cluster, or
    of two of one size the one whose records hold less information, may belong elsewhere."""
    size_a, size_b = len(cs.members[ra]), len(cs.members[rb])
    if size_a == size_b and information is not None:
        size_a = sum(information(x) for x in cs.members[ra])
        size_b = sum(information(x) for x in cs.members[rb])
    if size_a != size_b:
        return [(ra, rb)] if size_a < size_b else [(rb, ra)]
    return [(ra, rb), (rb, ra)]


@dataclass
class ClusterResult:
    clusters: list[list[int]]
    refused: list[tuple[int, int, str]] = field(default_factory=list)


class _Clusters:
    def __init__(self, ids: Iterable[int]):
        self.parent = {i: i for i in ids}
        self.members = {i: [i] for i in self.parent}

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return ra


def cluster(
    ids: Iterable[int],
    edges: Iterable[tuple[int, int, float]],
    pair_score: PairScore,
    is_conflict: IsConflict,
    *,
    upper: float,
    min_weight: float,
    mean_weight: float,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    ambiguity_margin: float | None = None,
    ambiguous: set[int] | None = None,
    identified: Callable[[int, int], bool] | None = None,
    information: Callable[[int], int] | None = None,
) -> ClusterResult:
    """Strongest-edge-first merging with cluster-level checks; judgements bind.

    With ``ambiguity_margin``, a cluster (the smaller side of an edge) that also links, nearly as
    strongly, to a third cluster that cannot merge with the other side is not merged: which one it
    belongs to is a steward's call (a support record naming only a namesake's name and domain).
    A link in hard conflict is no such alternative: the two may never be one cluster (a household
    member sharing the landline). Records in ``ambiguous`` (judged so up front, independently of the
    order) are never auto-linked.
    An edge whose two records ``identified`` as one party (they share an identifier) is not held back
    so: what else the smaller side resembles does not make that pair doubtful. Of two sides of one
    size, the one with less ``information`` (a ticket against a full record) is the one that may be
    drawn elsewhere; when neither has less, both are asked, so that the answer never depends on
    which record came first.
    """
    held = set(ambiguous or ())
    cs = _Clusters(ids)
    edges = sorted(edges, key=lambda e: (-e[2], e[0], e[1]))
    adjacency: dict[int, list[tuple[int, float]]] = {}
    for a, b, w in edges:
        if w < upper:
            break
        if is_conflict(a, b, pair_score(a, b)):
            continue  # two records that may never be one cluster: neither is a home the other could take
        adjacency.setdefault(a, []).append((b, w))
        adjacency.setdefault(b, []).append((a, w))
    cannot = {pair_key(a, b) for a, b in cannot_link}
    for a, b in must_link:
        if a in cs.parent and b in cs.parent:
            cs.union(a, b)
    refused: list[tuple[int, int, str]] = []
    for a, b, w in edges:
        if w < upper:
            break
        ra, rb = cs.find(a), cs.find(b)
        if ra == rb:
            continue
        if a in held or b in held:
            refused.append((a, b, "ambiguous"))
            continue
        if ambiguity_margin is not None and not (identified and identified(a, b)):
            rivals = {
                (big, cs.find(c))
                for small, big in _drawn_sides(cs, ra, rb, information)
                for x in cs.members[small]
                for c, w2 in adjacency.get(x, ())
                if w2 >= w - ambiguity_margin
            }
            ambiguous = False
            for big, rival in sorted(rivals):
                if rival in (ra, rb):
                    continue
                rival_check = check_merge(
                    cs.members[big],
                    cs.members[rival],
                    pair_score,
                    is_conflict,
                    cannot=cannot,
                    min_weight=min_weight,
                    mean_weight=mean_weight,
                )
                if not rival_check.ok:
                    ambiguous = True
                    break
            if ambiguous:
                refused.append((a, b, "ambiguous"))
                continue
        check = check_merge(
            cs.members[ra],
            cs.members[rb],
            pair_score,
            is_conflict,
            cannot=cannot,
            min_weight=min_weight,
            mean_weight=mean_weight,
        )
        if check.ok:
            cs.union(ra, rb)
        else:
            refused.append((a, b, check.reason))
    clusters = sorted((sorted(m) for m in cs.members.values()), key=lambda m: m[0])
    return ClusterResult(clusters=clusters, refused=refused)
