"""Comparators: put a pair of feature dicts into a comparison level for one field.

Every comparator returns ``(level, left, right)``: the level name (one of the field's ordered levels,
best agreement first) and the two values it looked at, for the explanation. ``missing`` means one side
lacks the value and is worth nothing; ``else`` means both sides have it and they disagree — for
identifiers (tax ID, national ID, date of birth) that is a *strong disagreement* that clustering treats
as a conflict. Similarities are rapidfuzz scores in [0, 1]: the best of character similarity on the
space-free name and token-sort similarity, over every name variant of each record (trade name and
legal name); typos in identifiers (one or two edits, transpositions) get their own ``close`` level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from matching import normalize as nz
from matching.settings import FieldSpec

Feats = dict[str, Any]
Result = tuple[str, Any, Any]


def name_similarity(a: Feats, b: Feats) -> float:
    best = 0.0
    for ca in a.get("compact") or ():
        for cb in b.get("compact") or ():
            if ca == cb:
                return 1.0
            best = max(best, fuzz.ratio(ca, cb, score_cutoff=best * 100) / 100)
    for na in a.get("names") or ():
        for nb in b.get("names") or ():
            best = max(best, fuzz.token_sort_ratio(na, nb, score_cutoff=best * 100) / 100)
    return best


# the similarity bands below "exact", best first, with their default lower bounds
NAME_BANDS = (("high", 0.93), ("medium", 0.86), ("low", 0.75))


def org_name(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    left, right = a.get("name"), b.get("name")
    if not a.get("compact") or not b.get("compact"):
        return "missing", left, right
    sim = name_similarity(a, b)
    if sim >= 1.0:
        return "exact", left, right
    for level, default in NAME_BANDS:
        if sim >= spec.thresholds.get(level, default):
            return level, left, right
    if ACRONYM in spec.levels and is_acronym(a, b):
        return ACRONYM, left, right
    return "else", left, right


# "IBM" and "International Business Machines", "BMW" and "Bayerische Motoren Werke": a name that is
# the initials of the other's words. Its own level, below every similarity band, whose weight the fit learns
# like any other (initials are shared by chance more often than names).
ACRONYM = "acronym"
_ACRONYM_LENGTHS = range(2, 6)


def acronyms(f: Feats) -> set[str]:
    """An organisation's names that may be initials: one word of two to five letters (a person's
    "Jo" or "Al" is no "Jack Owens")."""
    if f.get("party_type") == "individual":
        return set()
    return {n for n in f.get("names") or () if n.isalpha() and len(n) in _ACRONYM_LENGTHS}


def initials(f: Feats) -> set[str]:
    """The initials of an organisation's names of two to five words (stopwords left out)."""
    if f.get("party_type") == "individual":
        return set()
    out = set()
    for name in f.get("names") or ():
        words = nz.name_tokens(name)
        if len(words) in _ACRONYM_LENGTHS:
            out.add("".join(w[0] for w in words))
    return out


def is_acronym(a: Feats, b: Feats) -> bool:
    return crossed(acronyms(a), initials(a), acronyms(b), initials(b))


def crossed(short_a: set[str], inits_a: set[str], short_b: set[str], inits_b: set[str]) -> bool:
    """Is a short name of one record the initials of the other's (their `acronyms` and `initials`)?"""
    return bool(short_a & inits_b or short_b & inits_a)


def domain(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    da, db = a.get("domains") or [], b.get("domains") or []
    if not da or not db:
        return "missing", (da or [None])[0], (db or [None])[0]
    common = set(da) & set(db)
    if common:
        d = min(common)
        return "exact", d, d
    la, lb = a.get("domain_labels") or [], b.get("domain_labels") or []
    if set(la) & set(lb):
        return "label", da[0], db[0]
    best = max((fuzz.ratio(x, y) / 100 for x in la for y in lb), default=0.0)
    if best >= spec.thresholds.get("fuzzy", 0.88):
        return "fuzzy", da[0], db[0]
    return "else", da[0], db[0]


def _strip_prefix(x: str, y: str) -> tuple[str, str]:
    # "DE839347357" vs "839347357": the same number with and without its VAT country prefix
    if x[:2].isalpha() and not y[:2].isalpha():
        x = x[2:]
    elif y[:2].isalpha() and not x[:2].isalpha():
        y = y[2:]
    return x, y


def identifier_key(spec: FieldSpec) -> str:
    """The feature a single-value field compares: the field's own name unless its settings name one."""
    return str(spec.thresholds.get("key", spec.name))


def identifier(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    key = identifier_key(spec)
    x, y = a.get(key), b.get(key)
    if not x or not y:
        return "missing", x, y
    if x == y:
        return "exact", x, y
    sx, sy = _strip_prefix(str(x), str(y))
    if sx == sy:
        return "exact", x, y
    if OSA.distance(sx, sy) <= int(spec.thresholds.get("max_edits", 1)):
        return "close", x, y
    return "else", x, y


def phone(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    x, y = a.get("phone"), b.get("phone")
    if not x or not y:
        return "missing", x, y
    tx, ty = a.get("phone_tail") or x, b.get("phone_tail") or y
    if x == y or tx == ty:
        return "exact", x, y
    if OSA.distance(tx, ty) <= int(spec.thresholds.get("max_edits", 2)):
        return "close", x, y
    return "else", x, y


def unit_comparable(sa: str, sb: str) -> bool:
    """Are two street lines also compared without their units? When only one gives a unit ("12 Main
    St Suite 4", "12 Main St"), or both the same one; two different units are two addresses."""
    ua, ub = nz.street_unit(sa)[1], nz.street_unit(sb)[1]
    return bool(ua or ub) and (not ua or not ub or ua == ub)


def address(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    sa, sb = a.get("street"), b.get("street")
    pa, pb = a.get("postal"), b.get("postal")
    ca, cb = a.get("city"), b.get("city")
    left = ", ".join(v for v in (sa, pa, ca) if v) or None
    right = ", ".join(v for v in (sb, pb, cb) if v) or None
    street_both = bool(sa and sb)
    street_ok = False
    if street_both:
        ha, hb = a.get("house"), b.get("house")
        threshold = spec.thresholds.get("street", 0.85)
        if not ha or not hb or ha == hb:
            street_ok = fuzz.token_sort_ratio(sa, sb) / 100 >= threshold
            if not street_ok and unit_comparable(sa, sb):
                (xa, _), (xb, _) = nz.street_unit(sa), nz.street_unit(sb)
                street_ok = fuzz.token_sort_ratio(xa, xb) / 100 >= threshold
    postal_both, city_both = bool(pa and pb), bool(ca and cb)
    postal_ok = postal_both and pa == pb
    city_ok = city_both and fuzz.ratio(ca, cb) / 100 >= spec.thresholds.get("city", 0.85)
    if not (street_both or postal_both or city_both):
        return "missing", left, right
    # the postal code and city agree wherever both records give them
    same_locality = (postal_ok or city_ok) and postal_ok == postal_both and city_ok == city_both
    if street_ok:
        return ("full" if postal_ok or city_ok else "street"), left, right
    if street_both:
        # another street (or house number) in the same locality is most often a typo or a move of
        # one party, rarely a namesake: a namesake sits in another town
        return ("other_street" if same_locality and "other_street" in spec.levels else "else"), left, right
    if postal_ok and city_ok:
        return "locality", left, right
    if same_locality:
        return "city", left, right
    return "else", left, right


def country(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    ca, cb = a.get("country"), b.get("country")
    if ca and cb:
        return ("exact" if ca == cb else "else"), ca, cb
    ha, hb = a.get("country_hint"), b.get("country_hint")
    if ha and hb:
        return ("hint" if ha == hb else "hint_else"), ha, hb
    return "missing", ha, hb


_COMPATIBLE_FORMS = {frozenset({"kg", "gmbh_co_kg"}), frozenset({"ag", "se"}), frozenset({"ltd", "pty"})}


def legal_form(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    """Same legal form; compatible (``co`` is informal, KG vs GmbH & Co. KG); one letter off (a typo);
    else a different legal form, which names a different legal entity (Acme Inc vs Acme LLC). A local
    form that systems translate (OOO, K.K.) against an English one compares as missing."""
    fa, fb = a.get("legal_form"), b.get("legal_form")
    if not fa or not fb:
        return "missing", fa, fb
    if fa == fb:
        return "exact", fa, fb
    if {fa, fb} & nz.TRANSLATED_FORMS and {fa, fb} & nz.ENGLISH_FORMS:
        return "missing", fa, fb  # a form and, most likely, its translation
    if "co" in (fa, fb) or frozenset({fa, fb}) in _COMPATIBLE_FORMS:
        return "compatible", fa, fb
    if OSA.distance(fa, fb) <= 1:
        return "close", fa, fb
    return "else", fa, fb


def names_swapped(a: Feats, b: Feats) -> bool:
    """One record's given and family names are the other's family and given names: "Wang Wei" and
    "Wei Wang", a name of a culture that writes the family name first, or two fields swapped."""
    ga, fa, gb, fb = a.get("given"), a.get("family"), b.get("given"), b.get("family")
    return bool(ga and fa) and ga == fb and fa == gb


def given_name(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    x, y = a.get("given"), b.get("given")
    if not x or not y:
        return "missing", x, y
    if x == y:
        return "exact", x, y
    if names_swapped(a, b):
        return "fuzzy", x, y  # no conflict, and not the weight a shared rare given name has
    fx, fy = x.split()[0], y.split()[0]
    if set(a.get("given_forms") or ()) & set(b.get("given_forms") or ()):
        return "nickname", x, y
    # "maggie" has six canonical names, too many to be its forms, yet it is Margaret's nickname: were it
    # not found, the two given names would be a conflict
    if fy in nz.name_and_nicknames(fx):
        return "nickname", x, y
    # an initial agrees with the full name
    if (len(fx) == 1 or len(fy) == 1) and fx[0] == fy[0]:
        return "fuzzy", x, y
    if JaroWinkler.similarity(x, y) >= spec.thresholds.get("fuzzy", 0.85) or nz.misspelt_nickname(fx, fy):
        return "fuzzy", x, y
    return "else", x, y


def person_name(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    key = "family"
    x, y = a.get(key), b.get(key)
    if not x or not y:
        return "missing", x, y
    if x == y or x.replace(" ", "") == y.replace(" ", ""):
        return "exact", x, y
    if names_swapped(a, b):
        return "high", x, y
    sim = max(JaroWinkler.similarity(x, y), fuzz.token_sort_ratio(x, y) / 100)
    if sim >= spec.thresholds.get("high", 0.92):
        return "high", x, y
    if sim >= spec.thresholds.get("medium", 0.8):
        return "medium", x, y
    return "else", x, y


def date(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    key = identifier_key(spec)
    x, y = a.get(key), b.get(key)
    if not x or not y:
        return "missing", x, y
    if x == y:
        return "exact", x, y
    px, py = x.split("-"), y.split("-")
    same = sum(p == q for p, q in zip(px, py, strict=False))
    swapped = px[0] == py[0] and px[1] == py[2] and px[2] == py[1]
    if same == 2 or swapped or OSA.distance(x, y) <= 1:
        return "close", x, y
    return "else", x, y


def exact(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    key = identifier_key(spec)
    x, y = a.get(key), b.get(key)
    if not x or not y:
        return "missing", x, y
    return ("exact" if x == y else "else"), x, y


def set_overlap(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    key = identifier_key(spec)
    x, y = set(a.get(key) or ()), set(b.get(key) or ())
    if not x or not y:
        return "missing", sorted(x), sorted(y)
    if x == y:
        return "exact", sorted(x), sorted(y)
    return ("overlap" if x & y else "else"), sorted(x), sorted(y)


COMPARATORS: dict[str, Callable[[Feats, Feats, FieldSpec], Result]] = {
    "org_name": org_name,
    "domain": domain,
    "identifier": identifier,
    "phone": phone,
    "address": address,
    "country": country,
    "legal_form": legal_form,
    "given_name": given_name,
    "person_name": person_name,
    "date": date,
    "exact": exact,
    "set_overlap": set_overlap,
}


def compare(a: Feats, b: Feats, spec: FieldSpec) -> Result:
    """Comparison level of one field for a pair of records."""
    return COMPARATORS[spec.comparator](a, b, spec)
