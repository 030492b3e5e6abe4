"""Weights of many pairs at once, one field at a time over columns of values.

A batch run scores tens of millions of candidate pairs; one pair at a time, ``MatchModel.weigh`` spends
most of its 17 µs in the interpreter. Here each field is compared for all of a shard's pairs together:
each value a comparator reads becomes one array over the shard's records, exact agreement is a
comparison of integer codes, string similarity comes from rapidfuzz's ``process.cpdist`` (pair by pair
in C++), and values with few distinct forms (country, legal form) are compared once per distinct pair
of values; lists (a trade and a legal name, web domains, name tokens) are compared item by item over
every combination of the two records' items. The weights are those ``weigh`` gives, to the bit (the
tests compare both on every candidate pair of a labelled sample): ``compare`` stays the one
definition of every level, and the comparators without a column form (a person's names, dates, codes)
are asked pair by pair, for the pairs whose two records both carry the value. A batch run keeps only
the pairs that reach its lower threshold: fields are compared from the cheapest, and a pair is dropped
once the most the fields left could add would not lift it there (see ``_weigh``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from matching import normalize as nz
from matching.compare import (
    ACRONYM,
    COMPARATORS,
    NAME_BANDS,
    acronyms,
    crossed,
    identifier_key,
    initials,
)
from matching.model import (
    DISAGREEING,
    ECHOED_LEVEL,
    MAX_TOKEN_BITS,
    MIN_P,
    TOKEN_LEVELS,
    MatchModel,
    tf_value,
)
from matching.settings import FieldSpec

UNDECIDED = -1
TOKEN_COMBINATIONS = 2_000_000  # token pairs compared at once (about 80 MB of temporaries)


class Columns:
    """The values of a set of records, by position, and a set of pairs as two position arrays."""

    def __init__(self, feats: Mapping[int, dict[str, Any]], pairs: Sequence[tuple[int, int]]):
        # each pair as pair_key orders it, smaller id first
        keyed = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        self.ids, positions = np.unique(keyed, return_inverse=True)
        positions = positions.reshape(-1, 2)
        self.records = [feats[i] for i in self.ids.tolist()]
        self.a, self.b = positions[:, 0], positions[:, 1]
        self.size = len(keyed)
        self._cache: dict[Any, Any] = {}

    def _memo(self, key: Any, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def values(self, key: str) -> np.ndarray:
        """Each record's value of ``key`` (an object array; None where absent)."""
        return self._memo(("values", key), lambda: _objects([r.get(key) for r in self.records]))

    def items(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The lists ``key`` of all records end to end (values and their codes), and where each
        record's list starts and how long it is."""

        def build() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            lists = [x or () for x in self.values(key)]
            counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            flat = _objects(list(chain.from_iterable(lists)))
            starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
            return flat, _codes(flat), starts, counts

        return self._memo(("items", key), build)

    def combinations(self, key: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every item of list ``key`` of the first record of each pair in `rows` against every item of
        the second's: for each combination, its pair's place in `rows` and the two items' positions
        in ``items(key)``."""
        _, _, starts, counts = self.items(key)
        a, b = self.a[rows], self.b[rows]
        per_row = counts[a] * counts[b]
        owner = np.repeat(np.arange(len(rows)), per_row)
        k = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        width = counts[b][owner]
        return owner, starts[a][owner] + k // width, starts[b][owner] + k % width

    def subset(self, rows: np.ndarray) -> Columns:
        """The pairs at `rows`, over only the records they hold: the values a comparator gathers for
        each record are gathered for these alone."""
        used, positions = np.unique(np.concatenate([self.a[rows], self.b[rows]]), return_inverse=True)
        view = copy.copy(self)
        view.ids, view.records = self.ids[used], [self.records[i] for i in used.tolist()]
        view.a, view.b = positions[: len(rows)], positions[len(rows) :]
        view.size = len(rows)
        view._cache = {}
        return view

    def codes(self, key: str) -> np.ndarray:
        """Integer codes of each record's value of ``key`` (equal values, equal codes; -1: none)."""
        return self._memo(("codes", key), lambda: _codes(self.values(key)))

    def both(self, present: np.ndarray) -> np.ndarray:
        """Pairs whose two records both satisfy the per-record mask ``present``."""
        return present[self.a] & present[self.b]


def _objects(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _codes(values: np.ndarray) -> np.ndarray:
    return pd.factorize(values, use_na_sentinel=True)[0]


def _present(values: np.ndarray) -> np.ndarray:
    """Which values are there: truthy (not None, not empty), as ``bool`` says of each object."""
    return values.astype(bool)


def _similarity(x: np.ndarray, y: np.ndarray, scorer: Callable[..., Any]) -> np.ndarray:
    if not len(x):
        return np.empty(0, dtype=np.float64)
    return process.cpdist(list(x), list(y), scorer=scorer, dtype=np.float64)


def _tokens_sorted(values: np.ndarray) -> np.ndarray:
    """Each value's words in order: rapidfuzz's token_sort_ratio is the ratio of these, so each value
    is sorted once instead of once for every pair it is in."""
    return _objects([" ".join(sorted(v.split())) if v else v for v in values])


def _distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if not len(x):
        return np.empty(0, dtype=np.int64)
    return process.cpdist(list(x), list(y), scorer=OSA.distance, dtype=np.int64)


# ---------------------------------------------------------------------------- column comparators
# Each returns the level names it uses and, per pair, a level's index among them or UNDECIDED.
Levels = tuple[Sequence[str], np.ndarray]


def _best(owner: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """The largest of `values` per owner (owners 0 .. size-1, sorted); -inf where an owner has none."""
    best = np.full(size, -np.inf)
    np.maximum.at(best, owner, values)
    return best


def _org_name(c: Columns, spec: FieldSpec) -> Levels:
    acronym = (ACRONYM,) if ACRONYM in spec.levels else ()
    names = ("exact", *(level for level, _ in NAME_BANDS), *acronym, "else", "missing")
    _, _, _, n_compact = c.items("compact")
    out = np.full(c.size, names.index("missing"), dtype=np.int64)
    rows = np.flatnonzero((n_compact[c.a] > 0) & (n_compact[c.b] > 0))
    # every name variant (trade and legal name) of one record against every variant of the other
    compact = c.items("compact")[0]
    owner, x, y = c.combinations("compact", rows)
    sim = _best(owner, _similarity(compact[x], compact[y], fuzz.ratio), len(rows))
    ordered = _tokens_sorted(c.items("names")[0])
    owner, x, y = c.combinations("names", rows)
    sim = np.maximum(sim, _best(owner, _similarity(ordered[x], ordered[y], fuzz.ratio), len(rows)))
    sim /= 100
    level = np.full(len(rows), names.index("else"), dtype=np.int64)
    for i, (band, default) in reversed(list(enumerate(NAME_BANDS, start=1))):
        level[sim >= spec.thresholds.get(band, default)] = i
    level[sim >= 1.0] = 0
    if acronym:
        level[_acronyms(c, rows, level == names.index("else"))] = names.index(ACRONYM)
    out[rows] = level
    return names, out


def _acronyms(c: Columns, rows: np.ndarray, undecided: np.ndarray) -> np.ndarray:
    """Which of the pairs at `rows` (among those `undecided`) have one name the initials of the other:
    asked pair by pair of the few whose records hold a short name and a name of a few words."""
    short = c._memo("acronyms", lambda: [acronyms(r) for r in c.records])
    inits = c._memo("initials", lambda: [initials(r) for r in c.records])
    has_short = np.fromiter(map(bool, short), dtype=bool, count=len(short))
    has_inits = np.fromiter(map(bool, inits), dtype=bool, count=len(inits))
    a, b = c.a[rows], c.b[rows]
    asked = np.flatnonzero(undecided & ((has_short[a] & has_inits[b]) | (has_short[b] & has_inits[a])))
    found = [i for i in asked.tolist() if crossed(short[a[i]], inits[a[i]], short[b[i]], inits[b[i]])]
    mask = np.zeros(len(rows), dtype=bool)
    mask[found] = True
    return mask


def _domain(c: Columns, spec: FieldSpec) -> Levels:
    names = ("exact", "label", "fuzzy", "else", "missing")
    _, dcodes, _, n_dom = c.items("domains")
    labels, lcodes, _, _ = c.items("domain_labels")
    out = np.full(c.size, names.index("missing"), dtype=np.int64)
    rows = np.flatnonzero((n_dom[c.a] > 0) & (n_dom[c.b] > 0))
    owner, x, y = c.combinations("domains", rows)
    exact = _best(owner, (dcodes[x] == dcodes[y]).astype(np.float64), len(rows)) > 0
    owner, x, y = c.combinations("domain_labels", rows)
    label = _best(owner, (lcodes[x] == lcodes[y]).astype(np.float64), len(rows)) > 0
    # no labels to compare: a best similarity of 0, as the comparator's max(..., default=0.0)
    fuzzy = np.maximum(_best(owner, _similarity(labels[x], labels[y], fuzz.ratio), len(rows)), 0.0) / 100
    level = np.select(
        [exact, label, fuzzy >= spec.thresholds.get("fuzzy", 0.88)],
        [names.index("exact"), names.index("label"), names.index("fuzzy")],
        names.index("else"),
    )
    out[rows] = level
    return names, out


def _edits(names: Sequence[str], x: np.ndarray, y: np.ndarray, max_edits: int) -> np.ndarray:
    """Levels of pairs whose values x and y differ: close within `max_edits` edits, else else."""
    close = _distance(x, y) <= max_edits
    return np.where(close, names.index("close"), names.index("else"))


def _identifier(c: Columns, spec: FieldSpec) -> Levels:
    names = ("exact", "close", "else", "missing")
    key = identifier_key(spec)
    values = c.values(key)
    present, codes = _present(values), c.codes(key)
    out = np.full(c.size, names.index("missing"), dtype=np.int64)
    a, b = c.a, c.b
    both = c.both(present)
    out[both & (codes[a] == codes[b])] = names.index("exact")
    rows = np.flatnonzero(both & (codes[a] != codes[b]))
    if len(rows):
        # a VAT number with its country prefix against one without: compared without the prefix
        text = _objects([str(v) for v in values])
        prefixed = np.array([t[:2].isalpha() for t in text], dtype=bool)
        bare = _objects([t[2:] if p else t for t, p in zip(text, prefixed, strict=True)])
        pa, pb = prefixed[a[rows]], prefixed[b[rows]]
        x = np.where(pa & ~pb, bare[a[rows]], text[a[rows]])
        y = np.where(pb & ~pa, bare[b[rows]], text[b[rows]])
        same = x == y
        out[rows[same]] = names.index("exact")
        differ = ~same
        out[rows[differ]] = _edits(names, x[differ], y[differ], int(spec.thresholds.get("max_edits", 1)))
    return names, out


def _phone(c: Columns, spec: FieldSpec) -> Levels:
    names = ("exact", "close", "else", "missing")
    phone = c.values("phone")
    tails = c.values("phone_tail")
    tail = _objects([t or p for t, p in zip(tails, phone, strict=True)])
    present, codes, tcodes = _present(phone), c.codes("phone"), _codes(tail)
    out = np.full(c.size, names.index("missing"), dtype=np.int64)
    a, b = c.a, c.b
    both = c.both(present)
    same = both & ((codes[a] == codes[b]) | (tcodes[a] == tcodes[b]))
    out[same] = names.index("exact")
    rows = np.flatnonzero(both & ~same)
    out[rows] = _edits(names, tail[a[rows]], tail[b[rows]], int(spec.thresholds.get("max_edits", 2)))
    return names, out


def _address(c: Columns, spec: FieldSpec) -> Levels:
    names = ("full", "street", "other_street", "locality", "city", "else", "missing")
    a, b = c.a, c.b
    street, house = c.values("street"), c.values("house")
    postal, city = c.values("postal"), c.values("city")
    street_both = c.both(_present(street))
    postal_both = c.both(_present(postal))
    city_both = c.both(_present(city))
    hcodes, pcodes = c.codes("house"), c.codes("postal")
    has_house = _present(house)
    same_house = ~has_house[a] | ~has_house[b] | (hcodes[a] == hcodes[b])
    threshold = spec.thresholds.get("street", 0.85)
    street_ok = np.zeros(c.size, dtype=bool)
    rows = np.flatnonzero(street_both & same_house)
    ordered = _tokens_sorted(street)
    street_ok[rows] = _similarity(ordered[a[rows]], ordered[b[rows]], fuzz.ratio) / 100 >= threshold
    # again without the units, where compare.unit_comparable allows it
    split = [nz.street_unit(v) if v else (v, None) for v in street]
    core, unit = _objects([x for x, _ in split]), _objects([u for _, u in split])
    ucodes, has_unit = _codes(unit), _present(unit)
    comparable = (has_unit[a] | has_unit[b]) & (~has_unit[a] | ~has_unit[b] | (ucodes[a] == ucodes[b]))
    rows = np.flatnonzero(street_both & ~street_ok & comparable & same_house)
    ordered = _tokens_sorted(core)
    street_ok[rows] = _similarity(ordered[a[rows]], ordered[b[rows]], fuzz.ratio) / 100 >= threshold
    postal_ok = postal_both & (pcodes[a] == pcodes[b])
    city_ok = np.zeros(c.size, dtype=bool)
    rows = np.flatnonzero(city_both)
    city_ok[rows] = _similarity(city[a[rows]], city[b[rows]], fuzz.ratio) / 100 >= spec.thresholds.get(
        "city", 0.85
    )
    same_locality = (postal_ok | city_ok) & (postal_ok == postal_both) & (city_ok == city_both)
    other = "other_street" if "other_street" in spec.levels else "else"
    choices = [
        (~(street_both | postal_both | city_both), "missing"),
        (street_ok & (postal_ok | city_ok), "full"),
        (street_ok, "street"),
        (street_both & same_locality, other),
        (street_both, "else"),
        (postal_ok & city_ok, "locality"),
        (same_locality, "city"),
    ]
    out = np.select([m for m, _ in choices], [names.index(n) for _, n in choices], names.index("else"))
    return names, out


def _by_value_pairs(keys: Sequence[str]) -> Callable[[Columns, FieldSpec], Levels]:
    """A comparator that reads only `keys`, asked once per distinct pair of their values: few for a
    country or a legal form, however many pairs."""

    def levels(c: Columns, spec: FieldSpec) -> Levels:
        combined = _objects(list(zip(*(c.values(k) for k in keys), strict=True)))
        codes, distinct = pd.factorize(combined)
        joint = codes[c.a] * len(distinct) + codes[c.b]
        unique, inverse = np.unique(joint, return_inverse=True)
        comparator = COMPARATORS[spec.comparator]
        found: list[str] = []
        per_unique = np.empty(len(unique), dtype=np.int64)
        for i, j in enumerate(unique.tolist()):
            x, y = (dict(zip(keys, distinct[v], strict=True)) for v in divmod(j, len(distinct)))
            level = comparator(x, y, spec)[0]
            if level not in found:
                found.append(level)
            per_unique[i] = found.index(level)
        return found, per_unique[inverse.reshape(-1)]

    return levels


def _when_both(key: Callable[[FieldSpec], str]) -> Callable[[Columns, FieldSpec], Levels]:
    """A comparator that says ``missing`` unless both records carry the value `key` names: only the
    pairs that do are put to it (few customer records carry a person's name or birth date)."""

    def levels(c: Columns, spec: FieldSpec) -> Levels:
        present = _present(c.values(key(spec)))
        return ("missing",), np.where(c.both(present), UNDECIDED, 0)

    return levels


COLUMN_COMPARATORS: dict[str, Callable[[Columns, FieldSpec], Levels]] = {
    "org_name": _org_name,
    "domain": _domain,
    "identifier": _identifier,
    "phone": _phone,
    "address": _address,
    "country": _by_value_pairs(("country", "country_hint")),
    "legal_form": _by_value_pairs(("legal_form",)),
    "given_name": _when_both(lambda spec: "given"),
    "person_name": _when_both(lambda spec: "family"),
    "date": _when_both(identifier_key),
    "exact": _when_both(identifier_key),
    "set_overlap": _when_both(identifier_key),
}


# ---------------------------------------------------------------------------- weights
FieldLevels = dict[str, tuple[list[str], np.ndarray]]

# The column comparators from the cheapest a pair to the dearest: a run keeps only the pairs that may
# still reach its lower threshold, so the dear ones (a name's every variant against every other) are
# asked of the few pairs the cheap ones leave (on a shard of generated records, 9 in 100).
COST_ORDER = (
    "given_name",
    "person_name",
    "date",
    "exact",
    "set_overlap",
    "identifier",
    "phone",
    "country",
    "legal_form",
    "address",
    "domain",
    "org_name",
)
# a pair is dropped only when its bound falls short by more than the rounding of a sum in another order
_MARGIN = 1e-6


def weigh_with_levels(
    model: MatchModel,
    feats: Mapping[int, dict[str, Any]],
    pairs: Sequence[tuple[int, int]],
    *,
    at_least: float = -math.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, str]], np.ndarray]:
    """The pairs weighing `at_least` (all by default), each as ``pair_key`` orders it, in the order
    given: its weight and evidence as ``model.weigh`` gives them, and its levels (the distinct
    combinations of every field's level, and each pair's combination)."""
    c = Columns(feats, pairs)
    prior_w, kept, evidence, levels = _weigh(model, c, at_least)
    keep = np.flatnonzero(prior_w + evidence >= at_least)
    kept, evidence = kept[keep], evidence[keep]
    # each pair's levels as one number, field by field in mixed radix (settings with so many fields
    # that the number would not fit in 63 bits are not known; they would fail here, not go wrong)
    if math.prod(len(names) for names, _ in levels.values()) >= 2**63:
        raise ValueError("too many fields and levels to number their combinations")
    combined = np.zeros(len(kept), dtype=np.int64)
    radix = 1
    for names, codes in levels.values():
        combined += codes[keep] * radix
        radix *= len(names)
    combos, inverse = np.unique(combined, return_inverse=True)
    distinct = []
    for number in combos.tolist():
        combo = {}
        for field, (names, _) in levels.items():
            number, code = divmod(number, len(names))
            combo[field] = names[code]
        distinct.append(combo)
    keyed = c.ids[np.stack([c.a[kept], c.b[kept]], axis=1)]
    return keyed, prior_w + evidence, evidence, distinct, inverse.reshape(-1)


def _field_levels(
    c: Columns, spec: FieldSpec, comparator: Callable[..., tuple[str, Any, Any]]
) -> tuple[list[str], np.ndarray]:
    """One field's level names and each pair's level among them: the column comparator's, and the
    pair-by-pair `comparator`'s for the pairs it leaves undecided."""
    names, codes = COLUMN_COMPARATORS[spec.comparator](c, spec)
    names = list(names)
    for row in np.flatnonzero(codes == UNDECIDED).tolist():
        level = comparator(c.records[c.a[row]], c.records[c.b[row]], spec)[0]
        if level not in names:
            names.append(level)
        codes[row] = names.index(level)
    return names, codes


def _weigh(
    model: MatchModel, c: Columns, at_least: float
) -> tuple[float, np.ndarray, np.ndarray, FieldLevels]:
    """The prior weight; the rows of the pairs that may weigh `at_least`, with their evidence (the
    fields' weights summed in the order ``weigh`` sums them) and each field's level names with each
    of these pairs' level among them.

    Fields are compared from the cheapest (``COST_ORDER``); after each, a pair whose weight so far
    plus the most the fields still to compare could add (``_ceiling``) stays below `at_least` is
    dropped. The pairs kept weigh exactly what they weigh without it."""
    prior_w, table = model._table()
    ranked = sorted(range(len(table)), key=lambda j: COST_ORDER.index(table[j][0].comparator))
    echoes = {rule.field: rule.weights for rule in model.echo_rules()}
    ceilings = {
        j: max([_ceiling(model, table[j][0], table[j][2]), *echoes.get(j, {}).values()]) for j in ranked
    }
    rows = np.arange(c.size)
    view = c
    so_far = np.full(c.size, prior_w)
    still = sum(ceilings.values())
    found: dict[int, tuple[np.ndarray, list[str], np.ndarray, np.ndarray]] = {}
    for j in ranked:
        spec, comparator, weights = table[j]
        names, codes = _field_levels(view, spec, comparator)
        table_w = np.array(
            [0.0 if n == "missing" else weights.get(n, model.level_weight(spec.name, n)) for n in names]
        )
        w = table_w[codes]
        if spec.tf:
            _adjust(model, spec, view, names, codes, w)
        found[j] = (rows, names, codes, w)
        if j in echoes:  # until the other fields are compared, its echo weight may be the one
            so_far += np.maximum(w, np.array([echoes[j].get(n, -math.inf) for n in names])[codes])
        else:
            so_far += w
        still -= ceilings[j]
        if at_least > -math.inf:
            alive = np.flatnonzero(so_far + still >= at_least - _MARGIN)
            if len(alive) < len(rows):
                rows, so_far = rows[alive], so_far[alive]
                view = c.subset(rows)
    field_w: list[np.ndarray] = []
    levels: FieldLevels = {}
    for j, (spec, _, _) in enumerate(table):
        seen, names, codes, w = found[j]
        # the pairs still kept, among those the field was compared for (seen holds them, sorted)
        at = np.searchsorted(seen, rows)
        field_w.append(w[at])
        levels[spec.name] = (names, codes[at])
    _echo(model, table, levels, field_w)
    evidence = np.zeros(len(rows), dtype=np.float64)
    for w in field_w:  # summed in field order, as ``weigh`` sums them
        evidence += w
    return prior_w, rows, evidence, levels


def _echo(model: MatchModel, table: list, levels: FieldLevels, weights: list[np.ndarray]) -> None:
    """A field echoing another weighs by its echo u where its rule applies, as in ``MatchModel``
    (the bounds `_weigh` drops pairs by count the higher of the two weights)."""
    for rule in model.echo_rules():
        at = [levels[table[j][0].name] for j in (rule.field, rule.echoed, *rule.others)]
        (own_names, own), (echoed_names, echoed), *others = at
        applies = np.isin(echoed, [i for i, n in enumerate(echoed_names) if n == ECHOED_LEVEL])
        applies &= np.isin(own, [i for i, n in enumerate(own_names) if n in rule.weights])
        disagree = np.zeros(len(own), dtype=bool)
        for names, codes in others:
            disagree |= np.isin(codes, [i for i, n in enumerate(names) if n in DISAGREEING])
        applies &= disagree
        table_w = np.array([rule.weights.get(n, 0.0) for n in own_names])
        weights[rule.field] = np.where(applies, table_w[own], weights[rule.field])


def _ceiling(model: MatchModel, spec: FieldSpec, weights: Mapping[str, float]) -> float:
    """The most a pair can gain on this field: its best level, raised as far as term frequencies can
    raise it (see ``MatchModel._tf_adjusted``); 0 for missing."""
    known = set(spec.levels) | set(model.m.get(spec.name, {})) | set(model.u.get(spec.name, {}))
    best = max([0.0, *weights.values(), *(model.level_weight(spec.name, n) for n in known)])
    if not spec.tf:
        return best
    if "exact" in known:
        # a rare value's weight is m over its frequency, bounded below by a tenth of u
        m = max(model.m.get(spec.name, {}).get("exact", MIN_P), MIN_P)
        u = model.u.get(spec.name, {}).get("exact", MIN_P)
        best = max(best, math.log2(m / (0.1 * u)) if u > 0 else math.inf)
    if spec.name == "name":
        best = max([best, *(model.level_weight(spec.name, n) + MAX_TOKEN_BITS for n in TOKEN_LEVELS)])
    return best


def _adjust(
    model: MatchModel, spec: FieldSpec, c: Columns, names: list[str], codes: np.ndarray, w: np.ndarray
) -> None:
    """Term-frequency adjustment of `w` in place, as ``MatchModel._tf_adjusted`` makes it."""
    if "exact" in names:
        # per record: a run asks again for each subset of the pairs
        vcodes = c._memo(
            ("tf", spec.name), lambda: _codes(_objects([tf_value(spec.name, r) for r in c.records]))
        )
        rows = np.flatnonzero(
            (codes == names.index("exact")) & (vcodes[c.a] == vcodes[c.b]) & (vcodes[c.a] >= 0)
        )
        if len(rows):
            # the adjusted weight depends on the value alone: one per distinct value
            _, first, inverse = np.unique(vcodes[c.a[rows]], return_index=True, return_inverse=True)
            base = w[rows[0]]
            holders = c.a[rows[first]].tolist()
            adjusted = np.array(
                [model._tf_adjusted(spec.name, "exact", c.records[r], c.records[r], base) for r in holders]
            )
            w[rows] = adjusted[inverse.reshape(-1)]
    if spec.name == "name":
        fuzzy = [i for i, n in enumerate(names) if n in TOKEN_LEVELS]
        _adjust_tokens(model, c, np.flatnonzero(np.isin(codes, fuzzy)), w)


def _adjust_tokens(model: MatchModel, c: Columns, rows: np.ndarray, w: np.ndarray) -> None:
    """A fuzzy name agreement adjusted by the rarest name token the two records share, as
    ``MatchModel._tf_adjusted`` adjusts it."""
    tokens, tcodes, _, counts = c.items("tokens")
    freq = np.array([model.token_tf.get(t, model.token_default) for t in tokens], dtype=np.float64)
    lengths = np.array([len(t) for t in tokens], dtype=np.int64)
    rarest = np.full(len(rows), np.inf)
    # a few rows at a time: every token of one name meets every token of the other, and names of
    # fifteen tokens make 225 combinations a pair
    ends = np.cumsum(counts[c.a[rows]] * counts[c.b[rows]])
    start = 0
    while start < len(rows):
        reached = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, reached + TOKEN_COMBINATIONS, side="right")))
        rarest[start:stop] = _rarest_shared(c, rows[start:stop], tokens, tcodes, freq, lengths)
        start = stop
    found = np.isfinite(rarest)
    distinct, inverse = np.unique(rarest[found], return_inverse=True)
    bits = np.array([model.token_adjustment(f) for f in distinct.tolist()], dtype=np.float64)
    w[rows[found]] += bits[inverse.reshape(-1)]


def _rarest_shared(
    c: Columns,
    rows: np.ndarray,
    tokens: np.ndarray,
    tcodes: np.ndarray,
    freq: np.ndarray,
    lengths: np.ndarray,
) -> np.ndarray:
    """Per pair of `rows`, the frequency of the rarest token its names share (inf: none)."""
    owner, x, y = c.combinations("tokens", rows)
    shared = tcodes[x] == tcodes[y]
    rarest = np.full(len(rows), np.inf)
    np.minimum.at(rarest, owner[shared], freq[x[shared]])
    # typo'd names share no token exactly: tokens of four letters or more one edit apart (two from
    # eight letters) count, at the frequency of the more common spelling
    typo = ~np.isfinite(rarest)[owner]
    shortest = np.minimum(lengths[x], lengths[y])
    typo &= shortest >= 4
    near = _distance(tokens[x[typo]], tokens[y[typo]]) <= np.where(shortest[typo] < 8, 1, 2)
    close = np.flatnonzero(typo)[near]
    np.minimum.at(rarest, owner[close], np.maximum(freq[x[close]], freq[y[close]]))
    return rarest
