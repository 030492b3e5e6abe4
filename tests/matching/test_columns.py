"""Weighing many pairs at once gives each pair the weight ``MatchModel.weigh`` gives it, to the bit."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from matching.blocking import blocking_keys, candidate_pairs
from matching.columns import TOKEN_COMBINATIONS, _ceiling, weigh_with_levels
from matching.engine import PairVerdict, _Scorer, bulk_verdicts, shard_edges
from matching.features import features
from matching.model import TOKEN_LEVELS, MatchModel
from matching.settings import FieldSpec, default_settings
from tests.matching.samples import labelled_sample


def one_by_one(model: MatchModel, feats: dict, pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.array([model.weigh(feats[min(a, b)], feats[max(a, b)])[0] for a, b in pairs])


def weigh_pairs(model: MatchModel, feats: dict, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Each pair's weight by columns, in the order given."""
    return weigh_with_levels(model, feats, pairs)[1]


def all_pairs(feats: dict) -> list[tuple[int, int]]:
    return list(itertools.combinations(sorted(feats), 2))


LONG_NAME = "Federated Association of Independent Widget Makers and Distributors of the {} Hemisphere Region"

# Records that reach every level of every customer field, and the cases a column cannot take in bulk.
CUSTOMERS = [
    {"name": "Acme Widgets Inc.", "website": "acme.com", "country": "US", "phone": "+1 202 555 0101"},
    {"name": "ACME Widgets", "legal_name": "Acme Widgets Holdings LLC", "email": "ap@acme.com"},
    {"name": "Acme Widget", "website": "acme.co.uk", "email": "info@acmewidgets.com", "country": "GB"},
    {"name": "Acme Widgest Inc", "website": "acmee.com", "phone": "+1 (202) 555-0102"},
    {"name": "Acme", "tax_id": "DE136695976", "country": "Germany", "address_line1": "Hauptstr. 5"},
    {"name": "Acme GmbH", "tax_id": "136695976", "address_line1": "Hauptstrasse 5", "city": "Berlin"},
    {
        "name": "Acme GmbH & Co. KG",
        "tax_id": "136695967",
        "city": "Berlin",
        "postal_code": "10115",
        "address_line1": "Friedrichstr. 1",
    },
    {"name": "Acme Holding", "city": "Berlin", "postal_code": "10115"},
    {"name": "Acme Ltd", "tax_id": "GB136695976"},
    # a subsidiary naming its parent: a conflict that only the two records' references show
    {"name": "Acme Widgets", "source_id": "P1", "system": "crm", "website": "acme.com"},
    {
        "name": "Acme Widgets",
        "source_id": "S1",
        "parent_source_id": "P1",
        "system": "crm",
        "website": "acme.com",
    },
    # one letter apart in a hundred: similar to 0.99, which is not yet exact
    {"name": LONG_NAME.format("Northern")},
    {"name": LONG_NAME.format("Nortgern")},
    {"name": "Acme KG", "tax_id": "FR40303265045", "postal_code": "10115", "address_line1": "Hauptstr. 7"},
    {
        "name": "Clearbridge Analytics",
        "phone": "+44 20 7946 0958",
        "address_line1": "1 High St",
        "city": "London",
    },
    {
        "name": "Clerabridge Analytic Ltd",
        "phone": "020 7946 0958",
        "country": "GB",
        "city": "London",
        "address_line1": "1 High St.",
    },
    {"name": "Clearbridge Analytics Pty", "address_line1": "1 High Street", "postal_code": "SW1A 1AA"},
    {"name": "Northwind S.A.R.L.", "website": "https://www.northwind.fr/contact", "city": "Paris"},
    {"name": "Northwind SARL", "email": "x@gmail.com", "country": "FR", "city": "Pariss"},
    {
        "party_type": "individual",
        "given_name": "Bob",
        "family_name": "Smith",
        "birth_date": "1980-03-04",
        "national_id": "123-45-6789",
    },
    {
        "party_type": "individual",
        "given_name": "Robert",
        "family_name": "Smyth",
        "birth_date": "04/03/1980",
        "national_id": "123-45-6798",
    },
    {"party_type": "individual", "given_name": "R.", "family_name": "Smith", "birth_date": "1980-04-03"},
    {"name": "", "country": "US"},
    {"name": "Zyxel"},
    # a unit on one side only, the same unit, another unit
    {
        "name": "Harbor Tech",
        "address_line1": "12 Main St Suite 400",
        "postal_code": "02110",
        "city": "Boston",
    },
    {"name": "Harbor Tech Inc", "address_line1": "12 Main Street", "postal_code": "02110-1234"},
    {"name": "Harbor Tech", "address_line1": "12 Main St., Ste 400", "city": "Boston"},
    {"name": "Harbor Tech", "address_line1": "12 Main St Floor 3", "postal_code": "02110"},
    # a name that is the initials of another's words, in either record of a pair
    {"name": "IBM Corp.", "website": "ibm.com"},
    {"name": "International Business Machines Corporation", "email": "ap@ibm.com"},
    {"name": "Iron Bay Mining", "legal_name": "IBM Ltd"},
]


@pytest.fixture(scope="module")
def customers():
    return {i + 1: features("customer", attrs) for i, attrs in enumerate(CUSTOMERS)}


def fitted(domain: str, feats: dict) -> MatchModel:
    model = MatchModel.from_settings(default_settings(domain))
    model.fit_term_frequencies(feats.values(), min_count=1)
    return model


def test_every_customer_field_and_level_weighs_as_one_by_one(customers):
    model = fitted("customer", customers)
    pairs = all_pairs(customers)
    weights = weigh_pairs(model, customers, pairs)
    assert np.array_equal(weights, one_by_one(model, customers, pairs))
    levels = {(f, lvl) for a, b in pairs for f, lvl in model.weigh(customers[a], customers[b])[2].items()}
    # the hand-made records reach the levels the columns compute in bulk, not only the fallbacks
    wanted = [("name", "high"), ("name", "low"), ("domain", "label"), ("tax_id", "close"),
              ("tax_id", "exact"), ("phone", "exact"), ("address", "full"), ("address", "other_street"),
              ("address", "locality"), ("legal_form", "compatible"), ("country", "hint"),
              ("given_name", "nickname"), ("birth_date", "close"), ("name", "acronym")]  # fmt: skip
    missed = [r for r in wanted if r not in levels]
    assert not missed


def test_pairs_are_weighed_in_either_order(customers):
    model = fitted("customer", customers)
    pairs = all_pairs(customers)
    flipped = [(b, a) for a, b in pairs]
    assert np.array_equal(weigh_pairs(model, customers, flipped), weigh_pairs(model, customers, pairs))


def test_settings_an_administrator_changed_weigh_as_one_by_one(customers):
    settings = default_settings("customer")
    settings.field("name").thresholds = {"high": 0.8, "medium": 0.95, "low": 0.5}
    address = settings.field("address")
    address.levels = [lvl for lvl in address.levels if lvl != "other_street"]
    address.thresholds = {"street": 0.7, "city": 0.99}
    settings.field("domain").thresholds = {"fuzzy": 0.0}
    settings.field("phone").thresholds = {"max_edits": 0}
    model = MatchModel.from_settings(settings)
    model.fit_term_frequencies(customers.values(), min_count=1)
    pairs = all_pairs(customers)
    assert np.array_equal(weigh_pairs(model, customers, pairs), one_by_one(model, customers, pairs))


@pytest.mark.parametrize(
    ("domain", "records"),
    [
        ("product", [{"name": "Widget Pro", "code": "WP-1"}, {"name": "Widget Pro 2", "code": "WP-2"},
                     {"name": "widget pro", "category": "Tools"}, {"code": "wp1", "category": "tools"}]),
        ("contract", [{"customer_ref": "C1", "product_codes": "A,B", "start_date": "2025-01-01"},
                      {"customer_ref": "C1", "product_codes": ["B"], "start_date": "01/01/2025"},
                      {"customer_ref": "C2", "status": "Active", "end_date": "2026-01-01"}]),
        ("entitlement", [{"customer_ref": "C1", "product_code": "A", "sla_level": "Gold"},
                         {"customer_ref": "C1", "product_code": "A", "start_date": "2025-02-01"},
                         {"contract_ref": "K9", "sla_level": "gold", "end_date": "2025-02-01"}]),
    ],
)  # fmt: skip
def test_the_other_domains_weigh_as_one_by_one(domain, records):
    feats = {i + 1: features(domain, attrs) for i, attrs in enumerate(records)}
    model = fitted(domain, feats)
    pairs = all_pairs(feats)
    assert np.array_equal(weigh_pairs(model, feats, pairs), one_by_one(model, feats, pairs))


def test_candidate_pairs_of_the_labelled_set_weigh_as_one_by_one():
    recs, _ = labelled_sample(1500)
    feats = {r: features("customer", a) for r, a in recs.items()}
    keys = {r: blocking_keys("customer", f) for r, f in feats.items()}
    pairs = [tuple(p) for p in candidate_pairs(keys, 50, window=10).tolist()]
    model = MatchModel.from_settings(default_settings("customer"))
    model.fit_term_frequencies(feats.values())
    unechoed = weigh_pairs(model, feats, pairs)
    # namesakes sharing a domain as often as in the labelled set: a shared domain weighs 1 bit
    # beside a shared name and a different address, a different domain +1
    model.u_echo = {"domain": {"exact": 0.5, "label": 0.5, "fuzzy": 1e-4, "else": 1e-3}}
    weights = weigh_pairs(model, feats, pairs)
    assert len(pairs) > 10_000
    assert np.array_equal(weights, one_by_one(model, feats, pairs))
    assert (weights != unechoed).sum() > 100, "echoes weighed"
    # a different domain weighs more as an echo than as itself: pairs are dropped by the higher bound
    for at_least in (-5.0, 2.0):
        keyed = weigh_with_levels(model, feats, pairs, at_least=at_least)[0]
        kept = {(a, b) for (a, b), w in zip(pairs, weights, strict=True) if w >= at_least}
        assert {tuple(k) for k in keyed.tolist()} == {(min(a, b), max(a, b)) for a, b in kept}


def test_bulk_verdicts_are_those_clustering_asks_one_by_one(customers):
    recs, _ = labelled_sample(300)
    feats = {r: features("customer", a) for r, a in recs.items()}
    feats.update({-i: f for i, f in customers.items()})
    model = fitted("customer", feats)
    keys = {r: blocking_keys("customer", f) for r, f in feats.items()}
    pairs = [tuple(p) for p in candidate_pairs(keys, 50, window=10).tolist()] + all_pairs(
        {-i: f for i, f in customers.items()}
    )
    verdicts = bulk_verdicts(model, feats, pairs)
    one_by_one = _Scorer(model, feats, set())
    assert verdicts == {(min(a, b), max(a, b)): one_by_one.score(a, b) for a, b in pairs}
    kinds = {(v.conflicting, v.identified) for v in verdicts.values()}
    assert kinds == {(False, False), (False, True), (True, False), (True, True)}
    # a shard task keeps the edges at or above the lower threshold, each with its verdict, whichever
    # fields' ceilings let it stop comparing a pair early
    settings = model.settings
    for lower in (settings.lower_threshold, settings.upper_threshold, -5.0, 15.0):
        edges = shard_edges(model, feats, pairs, lower)
        kept = {pair: v for pair, v in verdicts.items() if v.weight >= lower}
        assert {(a, b): PairVerdict(*verdict) for a, b, *verdict in edges} == kept
        assert 0 < len(edges) == len(kept) < len(verdicts)
    assert shard_edges(model, feats, pairs, 1e6) == [], "every pair dropped before the last field"


def test_long_names_are_compared_token_by_token_a_batch_at_a_time():
    words = [f"{w}{i}" for i, w in enumerate(["alpha", "brava", "carlo", "delta", "ekko"] * 4)]
    rng = random.Random(3)
    feats = {
        i: features("customer", {"name": " ".join(rng.sample(words, 15)), "country": "DE"})
        for i in range(1, 161)
    }
    model = fitted("customer", feats)
    pairs = all_pairs(feats)
    weights = weigh_pairs(model, feats, pairs)
    assert np.array_equal(weights, one_by_one(model, feats, pairs))
    fuzzy = sum(model.weigh(feats[a], feats[b])[2]["name"] in TOKEN_LEVELS for a, b in pairs)
    assert fuzzy * 15 * 15 > TOKEN_COMBINATIONS, "more token pairs than one batch takes"


def test_levels_too_many_to_number_are_refused_not_mixed_up(customers):
    settings = default_settings("customer")
    address = settings.field("address")
    # 7 address levels in each of 23 fields: more combinations than 63 bits can number
    settings.fields = [
        FieldSpec(f"address_{i}", "address", list(address.levels), dict(address.thresholds))
        for i in range(23)
    ]
    model = MatchModel.from_settings(settings)
    with pytest.raises(ValueError, match="too many fields"):
        bulk_verdicts(model, customers, all_pairs(customers))
    settings.fields = settings.fields[:22]
    model = MatchModel.from_settings(settings)
    assert bulk_verdicts(model, customers, all_pairs(customers)) == {
        pair: _Scorer(model, customers, set()).score(*pair) for pair in all_pairs(customers)
    }


def test_no_pair_weighs_more_on_a_field_than_its_ceiling():
    """A run drops a pair once the fields still to compare cannot lift it to the lower threshold: each
    field's ceiling must bound what any pair gains on it, term frequencies included."""
    recs, _ = labelled_sample(1500)
    feats = {r: features("customer", a) for r, a in recs.items()}
    keys = {r: blocking_keys("customer", f) for r, f in feats.items()}
    pairs = candidate_pairs(keys, 50, window=10).tolist()
    model = MatchModel.from_settings(default_settings("customer"))
    model.fit_term_frequencies(feats.values())
    model.fitted_records = len(feats)
    table = model._table()[1]
    ceilings = {spec.name: _ceiling(model, spec, weights) for spec, _, weights in table}
    best: dict[str, float] = {}
    for a, b in pairs:
        for name, _, weight, _, _ in model._compare(feats[a], feats[b])[1]:
            best[name] = max(best.get(name, -math.inf), weight)
    assert all(best[name] <= ceilings[name] for name in best), (best, ceilings)
    # and they are near what pairs reach, or nothing would be dropped
    assert best["name"] == pytest.approx(ceilings["name"], abs=2.5)
    assert best["tax_id"] == pytest.approx(ceilings["tax_id"], abs=3.5)
