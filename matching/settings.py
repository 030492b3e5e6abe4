"""Match settings: which fields are compared, how, and where the decision thresholds lie.

A ``MatchSettings`` is plain data (stored as JSON that an administrator may edit). Each ``FieldSpec``
names a comparator from ``matching.compare``, its ordered comparison levels (best agreement first,
``missing`` always present and worth nothing), the similarity thresholds the comparator uses, whether
agreement is adjusted by term frequency (rare values say more), and which levels are *conflicts*
(two different tax IDs, two different dates of birth): a cluster never holds a conflicting pair unless
a steward must-linked it. ``prior_m``/``prior_u`` seed the Fellegi-Sunter model before EM. A field
whose levels are reached under different conditions lists them as ``stages`` (a country compared as
given, else as inferred): m and u are distributions within each stage.

Thresholds are match weights (log2 Bayes factor including the prior odds): a pair at or above
``upper_threshold`` links automatically, a pair between ``lower_threshold`` and ``upper_threshold``
goes to a steward, below is a non-match.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MISSING = "missing"


@dataclass
class FieldSpec:
    name: str
    comparator: str
    levels: list[str]
    thresholds: dict[str, float] = field(default_factory=dict)
    tf: bool = False
    conflict_levels: list[str] = field(default_factory=list)
    prior_m: dict[str, float] = field(default_factory=dict)
    prior_u: dict[str, float] = field(default_factory=dict)
    # Levels reached under different conditions, one list each: a country is compared as given when
    # both records give one, else as inferred. m and u are distributions within each stage; were u
    # one distribution over all levels, an inferred country's agreement would weigh more the rarer
    # inferred countries are among the records held (2.7 to 7 bits as a domain filled up). Empty:
    # the levels are one stage.
    stages: list[list[str]] = field(default_factory=list)
    # The field whose agreement this one often repeats: a web domain mostly spells the name. Fellegi-
    # Sunter takes fields as independent, so a name and a domain would count twice for namesakes who
    # share both. Where the echoed field agrees exactly and a distinguishing field disagrees, this field
    # weighs by how often its levels occur among such pairs of different parties, estimated from the
    # data (``em.estimate_u_echo``): little where namesakes share domains, as much as ever where
    # they don't.
    echoes: str | None = None

    def level_groups(self) -> list[list[str]]:
        """The levels (``missing`` aside) in the groups over which m and u each sum to one."""
        return self.stages or [[level for level in self.levels if level != MISSING]]

    def __post_init__(self) -> None:
        if self.stages:
            staged = [level for stage in self.stages for level in stage]
            wanted = [level for level in self.levels if level != MISSING]
            if len(staged) != len(set(staged)) or set(staged) != set(wanted):
                raise ValueError(
                    f"the stages of field {self.name!r} must hold each of its levels but missing once: "
                    f"{self.stages} for {wanted}"
                )


@dataclass
class MatchSettings:
    domain: str
    fields: list[FieldSpec]
    upper_threshold: float = 8.0
    lower_threshold: float = 2.0
    prior_match: float = 1e-4
    # the prior match probability of a random pair is taken as matches_per_record / n once the record
    # count n is known, so that weights (value frequencies ~ 1/n) and thresholds do not drift with size
    matches_per_record: float = 2.5
    # A block of more records than max_block pairs each with its `window` neighbours in name order either
    # way instead of with all of them. At 300,000 generated records, 50 and 10 gave 11.2 million candidate
    # pairs, 40 and 5 give 6.0 million; blocking recall 0.9974 -> 0.9965, and of the 5.2 million pairs
    # dropped 4,476 weighed above the lower threshold, 46 of them true matches (the rest namesakes and
    # strangers). On the labelled set pairwise F1 moved from 0.9130 to 0.9129.
    max_block: int = 40
    window: int = 5
    cluster_min_weight: float = -4.0
    cluster_mean_weight: float = 2.0
    # a pair disagreeing on this many distinguishing fields is a conflict (namesakes: same name,
    # other address and phone); ambiguity_margin: a record that links two incompatible clusters whose
    # weights lie within this margin is sent to review instead of joining the stronger one
    distinguishing_fields: list[str] = field(
        default_factory=lambda: [
            "tax_id",
            "phone",
            "address",
            "domain",
            "country",
            "national_id",
            "birth_date",
        ]
    )
    conflict_disagreements: int = 2
    ambiguity_margin: float = 6.0
    # 0 = m from the records sharing an identifier (em.estimate_m); EM is opt-in: on the dev set its
    # m gave pairwise F1 0.866 where the settings' priors gave 0.880
    em_iterations: int = 0
    # EM's m is smoothed towards prior_m by this many pseudo-pairs: on the dev set, free EM explains
    # namesakes and subsidiaries (same name and domain) as matches and loses precision and recall
    em_pseudo_count: float = 50_000.0
    em_fields_fixed: list[str] = field(default_factory=list)
    u_sample_pairs: int = 100_000

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSettings:
        data = dict(data)
        fields = [FieldSpec(**f) for f in data.pop("fields")]
        known = set(cls.__dataclass_fields__)
        return cls(fields=fields, **{k: v for k, v in data.items() if k in known})


def _customer() -> MatchSettings:
    return MatchSettings(
        domain="customer",
        fields=[
            FieldSpec(
                "name",
                "org_name",
                ["exact", "high", "medium", "low", "acronym", "else", "missing"],
                {"high": 0.93, "medium": 0.86, "low": 0.75},
                tf=True,
                prior_m={
                    "exact": 0.55,
                    "high": 0.25,
                    "medium": 0.1,
                    "low": 0.06,
                    "acronym": 0.005,
                    "else": 0.035,
                },
                prior_u={
                    "exact": 2e-4,
                    "high": 5e-4,
                    "medium": 2e-3,
                    "low": 1e-2,
                    "acronym": 1e-4,
                    "else": 0.987,
                },
            ),
            FieldSpec(
                "domain",
                "domain",
                ["exact", "label", "fuzzy", "else", "missing"],
                {"fuzzy": 0.88},
                tf=True,
                echoes="name",
                prior_m={"exact": 0.85, "label": 0.05, "fuzzy": 0.05, "else": 0.05},
                prior_u={"exact": 1e-4, "label": 1e-4, "fuzzy": 5e-4, "else": 0.9993},
            ),
            FieldSpec(
                "tax_id",
                "identifier",
                ["exact", "close", "else", "missing"],
                {"max_edits": 2},
                conflict_levels=["else"],
                prior_m={"exact": 0.9, "close": 0.08, "else": 0.02},
                prior_u={"exact": 1e-6, "close": 1e-5, "else": 0.99999},
            ),
            FieldSpec(
                "phone",
                "phone",
                ["exact", "close", "else", "missing"],
                {"max_edits": 2},
                prior_m={"exact": 0.75, "close": 0.2, "else": 0.05},
                prior_u={"exact": 1e-5, "close": 1e-4, "else": 0.9999},
            ),
            FieldSpec(
                "address",
                "address",
                ["full", "street", "locality", "city", "other_street", "else", "missing"],
                {"street": 0.85, "city": 0.85},
                prior_m={
                    "full": 0.7,
                    "street": 0.15,
                    "locality": 0.06,
                    "city": 0.04,
                    "other_street": 0.03,
                    "else": 0.02,
                },
                prior_u={
                    "full": 1e-6,
                    "street": 1e-5,
                    "locality": 1e-4,
                    "city": 1e-3,
                    "other_street": 1e-4,
                    "else": 0.9988,
                },
            ),
            FieldSpec(
                "country",
                "country",
                ["exact", "hint", "hint_else", "else", "missing"],
                conflict_levels=["else"],
                prior_m={"exact": 0.95, "hint": 0.85, "hint_else": 0.1, "else": 0.03},
                prior_u={"exact": 0.25, "hint": 0.25, "hint_else": 0.7, "else": 0.75},
                stages=[["exact", "else"], ["hint", "hint_else"]],
            ),
            FieldSpec(
                "legal_form",
                "legal_form",
                ["exact", "compatible", "close", "else", "missing"],
                conflict_levels=["else"],
                prior_m={"exact": 0.9, "compatible": 0.05, "close": 0.03, "else": 0.02},
                prior_u={"exact": 0.15, "compatible": 0.1, "close": 0.05, "else": 0.7},
            ),
            FieldSpec(
                "given_name",
                "given_name",
                ["exact", "nickname", "fuzzy", "else", "missing"],
                {"fuzzy": 0.85},
                tf=True,
                # two given names that are neither one name, a nickname, an initial nor a typo of one:
                # two people, as in one household (one family name, address and landline)
                conflict_levels=["else"],
                prior_m={"exact": 0.85, "nickname": 0.06, "fuzzy": 0.05, "else": 0.04},
                prior_u={"exact": 5e-3, "nickname": 2e-3, "fuzzy": 5e-3, "else": 0.988},
            ),
            FieldSpec(
                "family_name",
                "person_name",
                ["exact", "high", "medium", "else", "missing"],
                {"high": 0.92, "medium": 0.8},
                tf=True,
                prior_m={"exact": 0.85, "high": 0.08, "medium": 0.04, "else": 0.03},
                prior_u={"exact": 1e-3, "high": 1e-3, "medium": 5e-3, "else": 0.993},
            ),
            FieldSpec(
                "birth_date",
                "date",
                ["exact", "close", "else", "missing"],
                conflict_levels=["else"],
                prior_m={"exact": 0.93, "close": 0.05, "else": 0.02},
                prior_u={"exact": 5e-5, "close": 1e-3, "else": 0.99895},
            ),
            FieldSpec(
                "national_id",
                "identifier",
                ["exact", "close", "else", "missing"],
                {"max_edits": 1, "key": "national_id"},
                conflict_levels=["else"],
                prior_m={"exact": 0.95, "close": 0.03, "else": 0.02},
                prior_u={"exact": 1e-7, "close": 1e-6, "else": 0.999999},
            ),
            # Jr. and Sr., II and III: the only difference between a father and son of one name, often
            # at one address; most records leave it out (missing), and two that give it differ
            # only if they are two people.
            FieldSpec(
                "generation",
                "exact",
                ["exact", "else", "missing"],
                conflict_levels=["else"],
                prior_m={"exact": 0.98, "else": 0.02},
                prior_u={"exact": 0.5, "else": 0.5},
            ),
            # A person's own e-mail address (features hold none for organisations): people use more
            # than one, so a different address says little.
            FieldSpec(
                "email",
                "exact",
                ["exact", "else", "missing"],
                tf=True,
                prior_m={"exact": 0.6, "else": 0.4},
                prior_u={"exact": 1e-6, "else": 0.999999},
            ),
        ],
        upper_threshold=8.0,
        lower_threshold=2.0,
        prior_match=1e-4,
    )


def _product() -> MatchSettings:
    return MatchSettings(
        domain="product",
        fields=[
            FieldSpec(
                "code",
                "identifier",
                ["exact", "close", "else", "missing"],
                {"max_edits": 0, "key": "code"},
                # Codes are compared in their canonical (mapped) form: a governed mapping makes an
                # equal code as good as proof, while each system's own code differs for one product.
                prior_m={"exact": 0.9, "close": 0.0, "else": 0.1},
                prior_u={"exact": 1e-7, "close": 1e-9, "else": 0.9999999},
            ),
            FieldSpec(
                "name",
                "org_name",
                ["exact", "high", "medium", "low", "else", "missing"],
                {"high": 0.93, "medium": 0.86, "low": 0.75},
                tf=True,
                prior_m={"exact": 0.6, "high": 0.2, "medium": 0.1, "low": 0.05, "else": 0.05},
                prior_u={"exact": 1e-3, "high": 2e-3, "medium": 5e-3, "low": 2e-2, "else": 0.97},
            ),
            FieldSpec(
                "category",
                "exact",
                ["exact", "else", "missing"],
                {"key": "category"},
                prior_m={"exact": 0.9, "else": 0.1},
                prior_u={"exact": 0.1, "else": 0.9},
            ),
        ],
        upper_threshold=6.0,
        lower_threshold=1.0,
        prior_match=1e-3,
    )


def _ref_field(key: str, m: float = 0.95, u: float = 1e-3) -> FieldSpec:
    return FieldSpec(
        key,
        "exact",
        ["exact", "else", "missing"],
        {"key": key},
        conflict_levels=["else"],
        prior_m={"exact": m, "else": 1 - m},
        prior_u={"exact": u, "else": 1 - u},
    )


def _date_field(key: str) -> FieldSpec:
    return FieldSpec(
        key,
        "date",
        ["exact", "close", "else", "missing"],
        {"key": key},
        prior_m={"exact": 0.85, "close": 0.1, "else": 0.05},
        prior_u={"exact": 2e-3, "close": 2e-2, "else": 0.978},
    )


def _contract() -> MatchSettings:
    codes = FieldSpec(
        "product_codes",
        "set_overlap",
        ["exact", "overlap", "else", "missing"],
        {"key": "product_codes"},
        prior_m={"exact": 0.8, "overlap": 0.15, "else": 0.05},
        prior_u={"exact": 0.05, "overlap": 0.1, "else": 0.85},
    )
    return MatchSettings(
        domain="contract",
        fields=[_ref_field("customer_ref"), codes, _date_field("start_date"), _date_field("end_date")],
        upper_threshold=6.0,
        lower_threshold=2.0,
        prior_match=1e-3,
    )


def _entitlement() -> MatchSettings:
    return MatchSettings(
        domain="entitlement",
        fields=[
            _ref_field("customer_ref"),
            _ref_field("contract_ref"),
            _ref_field("product_code", m=0.95, u=0.05),
            _date_field("start_date"),
            _date_field("end_date"),
        ],
        upper_threshold=8.0,
        lower_threshold=3.0,
        prior_match=1e-3,
    )


_DEFAULTS = {"customer": _customer, "product": _product, "contract": _contract, "entitlement": _entitlement}


def default_settings(domain: str) -> MatchSettings:
    """Sensible starting settings for a domain; EM then fits m/u to the data."""
    try:
        return _DEFAULTS[domain]()
    except KeyError:
        raise ValueError(f"unknown domain {domain!r}") from None
