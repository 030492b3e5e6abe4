"""Fellegi-Sunter scoring with term-frequency adjustment and per-field explanations.

For each field the comparator puts a pair into a level; the level contributes
``log2(m / u)`` where ``m = P(level | match)`` and ``u = P(level | non-match)``; a missing value
contributes 0. The pair's match weight is ``log2(prior odds)`` plus the sum of contributions, and its
probability is ``2**w / (1 + 2**w)``. Every score therefore decomposes exactly into a waterfall of
``Contribution`` rows (the first one is the prior), which the API and the review screen show.

Term frequencies: for a ``tf`` field, agreeing exactly on a value is scored with the value's own
frequency in place of ``u`` (two records both called "Smith Solutions" agree on something common;
two records called "Zyxel" on something rare). For the fuzzy agreement levels of the name, the rarest
token the two names share adjusts the weight by up to ±2 bits; names that share no token exactly
(typos) use tokens one or two edits apart, at the frequency of the more common spelling.

Echoes: a field that mostly repeats another (``FieldSpec.echoes``: a web domain spells the name) is
no independent evidence where the two would count twice. Where the echoed field agrees exactly and a
distinguishing field disagrees, the field weighs ``log2(m / u_echo)``, with ``u_echo`` its levels'
frequencies among such pairs of different parties (``em.estimate_u_echo``).
Records of namesakes that share a name and a domain but not an address then weigh as what they are.

Level weights are computed once per parameter set (``_table``) and rebuilt when the prior or a field's
m/u table is replaced, as EM and ``refine`` do; mutate a field's table by replacing it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA

from matching.compare import COMPARATORS, NAME_BANDS, compare
from matching.settings import FieldSpec, MatchSettings

MIN_P = 1e-9  # the least m or u a level is given: a level never seen must not weigh infinity
_MISSING_FREQ = 2.0
MAX_TOKEN_BITS = 2.0
# fuzzy name agreement, adjusted by the rarest name token the two records share
TOKEN_LEVELS = frozenset(level for level, _ in NAME_BANDS)
_Compared = tuple[str, str, float, Any, Any]  # field, level, weight, left value, right value
# levels at which a distinguishing field disagrees, as ``MatchModel.conflicts`` counts them
DISAGREEING = ("else", "hint_else")
# where an echo rule applies, the echoed field's level: that of the pairs sharing its value, which
# u_echo is estimated on (two names merely alike share a domain less often: taken with the exact
# names' u_echo, recall fell)
ECHOED_LEVEL = "exact"


def echo_witnesses(settings: MatchSettings, spec: FieldSpec) -> list[str]:
    """The fields one of which must disagree for `spec`'s echo rule to apply: the distinguishing
    fields but the field and the one it echoes."""
    held = {f.name for f in settings.fields}
    return [f for f in settings.distinguishing_fields if f in held and f not in (spec.name, spec.echoes)]


class EchoRule(NamedTuple):
    """Where a field echoing another weighs by its echo u (fields by their index in the settings)."""

    field: int
    echoed: int
    others: tuple[int, ...]  # ``echo_witnesses``: one of them must disagree
    weights: dict[str, float]  # the field's level weights there


@dataclass
class Contribution:
    field: str
    level: str
    weight: float
    left: Any = None
    right: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "level": self.level,
            "weight": round(self.weight, 3),
            "left": self.left,
            "right": self.right,
        }


@dataclass
class Score:
    weight: float
    probability: float
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def evidence(self) -> float:
        """The weight the compared fields contribute, without the prior: below zero only when the
        records disagree, whereas a low ``weight`` may only mean that little could be compared."""
        return self.weight - sum(c.weight for c in self.contributions if c.field == "prior")

    def level(self, field_name: str) -> str | None:
        return self.levels().get(field_name)

    def levels(self) -> dict[str, str]:
        return {c.field: c.level for c in self.contributions}

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight": round(self.weight, 3),
            "probability": self.probability,
            "contributions": [c.to_dict() for c in self.contributions],
        }


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds = 2.0**weight
    return odds / (1.0 + odds)


def tf_value(fname: str, feats: dict[str, Any]) -> str | None:
    """The value whose frequency adjusts an exact agreement on ``fname``."""
    if fname == "name":
        compact = feats.get("compact") or []
        return compact[0] if compact else None
    if fname == "domain":
        doms = feats.get("domains") or []
        return doms[0] if doms else None
    if fname == "given_name":
        return feats.get("given")
    if fname == "family_name":
        return feats.get("family")
    value = feats.get(fname)
    return value if isinstance(value, str) else None


@dataclass
class MatchModel:
    settings: MatchSettings
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior: float
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    tf_default: dict[str, float] = field(default_factory=dict)
    token_tf: dict[str, float] = field(default_factory=dict)
    token_default: float = 1e-6
    token_ref: float = 1e-3
    # how many records the term frequencies and the prior were counted over (0: not fitted)
    fitted_records: int = 0
    # per echoing field, u of its levels where its echo rule applies (see the module docstring)
    u_echo: dict[str, dict[str, float]] = field(default_factory=dict)

    # ---------------------------------------------------------------- construction / persistence
    @classmethod
    def from_settings(cls, settings: MatchSettings) -> MatchModel:
        m = {f.name: dict(f.prior_m) for f in settings.fields}
        u = {f.name: dict(f.prior_u) for f in settings.fields}
        return cls(settings=settings, m=m, u=u, prior=settings.prior_match)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings.to_dict(),
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "tf": self.tf,
            "tf_default": self.tf_default,
            "token_tf": self.token_tf,
            "token_default": self.token_default,
            "token_ref": self.token_ref,
            "fitted_records": self.fitted_records,
            "u_echo": self.u_echo,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchModel:
        data = dict(data)
        settings = MatchSettings.from_dict(data.pop("settings"))
        return cls(settings=settings, **data)

    def fit_term_frequencies(self, feats: Iterable[dict[str, Any]], *, min_count: int = 2) -> None:
        """Count value and name-token frequencies over the records held (values seen once are implied)."""
        tf_fields = [f.name for f in self.settings.fields if f.tf]
        records = list(feats)
        n = len(records)
        if not n:
            return
        # a field at a time over all records: Counter counts an iterable in C
        counters = {f: Counter(filter(None, (tf_value(f, ft) for ft in records))) for f in tf_fields}
        tokens = Counter(chain.from_iterable(ft.get("tokens") or () for ft in records))
        self.fitted_records = n
        if self.settings.matches_per_record:
            self.prior = min(0.1, self.settings.matches_per_record / n)
        self.tf = {f: {v: c / n for v, c in cnt.items() if c >= min_count} for f, cnt in counters.items()}
        self.tf_default = {f: 1.0 / n for f in tf_fields}
        self.token_tf = {t: c / n for t, c in tokens.items() if c >= min_count}
        self.token_default = 1.0 / n
        total = sum(tokens.values())
        # expected frequency of the token behind a random token occurrence: the "typical" token
        self.token_ref = sum(c * c for c in tokens.values()) / (total * n) if total else 1e-3

    # ---------------------------------------------------------------- scoring
    def level_weight(self, fname: str, level: str) -> float:
        if level == "missing":
            return 0.0
        m = max(self.m.get(fname, {}).get(level, MIN_P), MIN_P)
        u = max(self.u.get(fname, {}).get(level, MIN_P), MIN_P)
        return math.log2(m / u)

    def token_adjustment(self, rarest: float) -> float:
        """Bits a fuzzy name agreement gains (a rare shared token) or loses (a common one), at most
        ``MAX_TOKEN_BITS``."""
        adj = 0.5 * math.log2(self.token_ref / max(rarest, 1e-12))
        return max(-MAX_TOKEN_BITS, min(MAX_TOKEN_BITS, adj))

    def _tf_adjusted(self, fname: str, level: str, a: dict, b: dict, base: float) -> float:
        if level == "exact":
            value = tf_value(fname, a)
            if value is None or value != tf_value(fname, b):
                return base
            freq = self.tf.get(fname, {}).get(value, self.tf_default.get(fname, 0.0))
            if freq <= 0:
                return base
            u_level = self.u.get(fname, {}).get(level, MIN_P)
            m = max(self.m.get(fname, {}).get(level, MIN_P), MIN_P)
            if self.fitted_records:
                # u is how often the value occurs among records of other parties: of the records
                # counted, one is this record and about matches_per_record * m are its own duplicates,
                # which share the value by being the same party, not by chance
                n = self.fitted_records
                freq = (freq * n - 1 - self.settings.matches_per_record * m) / n
            # the value's own frequency replaces u (bounded so one field cannot dominate everything)
            return math.log2(m / max(freq, u_level * 0.1))
        if fname == "name" and level in TOKEN_LEVELS:
            ta, tb = a.get("tokens") or (), b.get("tokens") or ()
            shared = set(ta) & set(tb)
            if shared:
                rarest = min(self.token_tf.get(t, self.token_default) for t in shared)
            else:
                # typo'd names share no token exactly: pair tokens one or two edits apart and take the
                # more common spelling's frequency (a typo's own spelling is rare by construction)
                rarest = _MISSING_FREQ
                for x in ta:
                    for y in tb:
                        if (
                            len(x) >= 4
                            and len(y) >= 4
                            and OSA.distance(x, y, score_cutoff=2) <= (1 if min(len(x), len(y)) < 8 else 2)
                        ):
                            f = max(
                                self.token_tf.get(x, self.token_default),
                                self.token_tf.get(y, self.token_default),
                            )
                            rarest = min(rarest, f)
                if rarest == _MISSING_FREQ:
                    return base
            return base + self.token_adjustment(rarest)
        return base

    def compare_levels(self, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
        """Level name of every field for a pair (the comparison vector EM works on)."""
        return [compare(a, b, spec)[0] for spec in self.settings.fields]

    def _table(self) -> tuple[float, list[tuple[Any, Any, dict[str, float]]]]:
        """Prior weight and, per field, its comparator and level weights — rebuilt when the prior,
        the settings' fields or any field's m/u table is replaced (EM and ``refine`` replace them)."""
        fields = self.settings.fields
        key = (
            self.prior,
            id(fields),
            len(fields),
            tuple(map(id, self.m.values())),
            tuple(map(id, self.u.values())),
            id(self.u_echo),
            tuple(map(id, self.u_echo.values())),
        )
        cached = self.__dict__.get("_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        table = []
        for spec in fields:
            weights = {lvl: self.level_weight(spec.name, lvl) for lvl in spec.levels}
            table.append((spec, COMPARATORS[spec.comparator], weights))
        value = (math.log2(self.prior / (1.0 - self.prior)), table)
        echoes = self._echo_rules(table)
        # the referenced objects are held with the key, so their ids cannot be reused while cached
        held = (fields, list(self.m.values()), list(self.u.values()), self.u_echo, list(self.u_echo.values()))
        self.__dict__["_cache"] = (key, value, held, echoes)
        return value

    def echo_rules(self) -> list[EchoRule]:
        """The echo rules of the current parameters (see the module docstring)."""
        self._table()
        return self.__dict__["_cache"][3]

    def _echo_rules(self, table: list[tuple[Any, Any, dict[str, float]]]) -> list[EchoRule]:
        index = {spec.name: j for j, (spec, _, _) in enumerate(table)}
        rules = []
        for j, (spec, _, _) in enumerate(table):
            u = self.u_echo.get(spec.name)
            if not u or spec.echoes not in index:
                continue
            others = tuple(index[f] for f in echo_witnesses(self.settings, spec))
            m = self.m.get(spec.name, {})
            weights = {lvl: math.log2(max(m.get(lvl, MIN_P), MIN_P) / max(p, MIN_P)) for lvl, p in u.items()}
            rules.append(EchoRule(j, index[spec.echoes], others, weights))
        return rules

    def _compare(self, a: dict[str, Any], b: dict[str, Any]) -> tuple[float, list[_Compared]]:
        """The prior weight and each field compared."""
        prior_w, table = self._table()
        rows = []
        for spec, comparator, weights in table:
            level, left, right = comparator(a, b, spec)
            if level == "missing":
                w = 0.0
            else:
                w = weights[level] if level in weights else self.level_weight(spec.name, level)
                if spec.tf:
                    w = self._tf_adjusted(spec.name, level, a, b, w)
            rows.append((spec.name, level, w, left, right))
        for rule in self.__dict__["_cache"][3]:  # the echo rules of the table just read
            level = rows[rule.field][1]
            if (
                level in rule.weights
                and rows[rule.echoed][1] == ECHOED_LEVEL
                and any(rows[o][1] in DISAGREEING for o in rule.others)
            ):
                rows[rule.field] = (*rows[rule.field][:2], rule.weights[level], *rows[rule.field][3:])
        return prior_w, rows

    def score(self, a_feats: dict[str, Any], b_feats: dict[str, Any]) -> Score:
        prior_w, rows = self._compare(a_feats, b_feats)
        total = prior_w + sum(row[2] for row in rows)
        contributions = [Contribution("prior", "prior", prior_w), *(Contribution(*row) for row in rows)]
        return Score(weight=total, probability=probability(total), contributions=contributions)

    def weigh(self, a_feats: dict[str, Any], b_feats: dict[str, Any]) -> tuple[float, float, dict[str, str]]:
        """The pair's weight, its evidence (see `Score`) and each field's level: what decisions need
        of a score, without building its explanation (an eighth of the time a pair takes to score)."""
        prior_w, rows = self._compare(a_feats, b_feats)
        evidence = sum(row[2] for row in rows)
        return prior_w + evidence, evidence, {row[0]: row[1] for row in rows}

    def conflicts(self, levels: dict[str, str]) -> list[str]:
        """Fields on which a pair with these levels (by field, see `weigh`) strongly disagrees: hard
        conflicts for clustering."""
        out = []
        for spec in self.settings.fields:
            if spec.conflict_levels and levels.get(spec.name) in spec.conflict_levels:
                out.append(spec.name)
        if not out and self.settings.conflict_disagreements:
            differ = [f for f in self.settings.distinguishing_fields if levels.get(f) in DISAGREEING]
            if len(differ) >= self.settings.conflict_disagreements:
                out.append("+".join(differ))
        return out
