"""Per-record features: the normalised, JSON-serialisable form of a record that matching compares.

``features(domain, attrs)`` is computed once when a record arrives and stored beside it (a JSON column);
blocking keys and every later comparison read only these features, never the raw attributes.

Customer features hold the organisation name without legal form (and its space-free *compact* form,
which absorbs "SouthFoods" vs "South Foods"), the legal form and its family, the registrable web
domains from website and e-mail (free-mail dropped), the phone in E.164 and its national tail, the tax
ID (compact, with validity), the country as given and a *country hint* inferred from the tax-ID prefix,
the phone's country code and the legal form (a ccTLD is the weakest hint: subsidiaries share the
parent's domain), street / house number / city / postal code, person fields for individuals (their
name in one order, given and family names split from it where no system gave them apart, and their
e-mail address), and the source ID and parent reference (so that a subsidiary is never merged into
its parent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers

from matching import normalize as nz

_FAMILY_COUNTRY = {"us": "US", "gb": "GB", "de": "DE", "nl": "NL", "fr": "FR", "it": "IT", "es": "ES"}


def _s(attrs: Mapping[str, Any], key: str) -> str:
    value = attrs.get(key)
    return "" if value is None else str(value).strip()


def _party(attrs: Mapping[str, Any], key: str) -> str:
    """A party's field, "" for a placeholder ("N/A"), as ingest reads it (``mdm.schemas``); another
    domain's "Unknown" may be a value."""
    text = _s(attrs, key)
    return "" if nz.is_placeholder(text) else text


def _phone_region(e164: str | None) -> str | None:
    if not e164 or not e164.startswith("+"):
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or None
    except phonenumbers.NumberParseException:
        return None


def customer_features(attrs: Mapping[str, Any]) -> dict[str, Any]:
    party_type = (_party(attrs, "party_type") or "organization").lower()
    individual = party_type.startswith("ind") or party_type == "person"
    explicit_country = nz.country(_party(attrs, "country"))

    tax, tax_valid = nz.tax_id(_party(attrs, "tax_id"), explicit_country)
    hint = nz.tax_country(tax) if tax_valid or (tax and tax[:2].isalpha()) else None

    name_raw = _party(attrs, "name")
    legal_raw = _party(attrs, "legal_name")
    given = nz.person_name(_party(attrs, "given_name"))
    family = nz.person_name(_party(attrs, "family_name"))
    if individual and not (given or family):
        given, family = nz.person_parts(name_raw or legal_raw)
    if individual and (given or family):
        # one order for every system: "Berg, Anna" and "ANNA BERG" are one name; and a person's name
        # has no legal form or business abbreviation in it (Maria Sá, Dev Patel)
        name, form, names = f"{given} {family}".strip(), None, [f"{given} {family}".strip()]
    else:
        name, form = nz.org_name(name_raw or legal_raw)
        legal_name, legal_form = nz.org_name(legal_raw) if legal_raw else ("", None)
        form = legal_form or form
        trade = [nz.trade_name(name_raw), nz.trade_name(legal_raw)]
        names = [n for n in dict.fromkeys([name, legal_name, *trade]) if n]

    domains = []
    for raw in (_party(attrs, "website"), _party(attrs, "email")):
        dom = nz.web_domain(raw)
        if dom and dom not in domains:
            domains.append(dom)
    labels = sorted({nz.domain_label(d) for d in domains} - {None})

    phone = nz.phone(_party(attrs, "phone"), explicit_country or hint)
    # only a number written with its country code says where the party is
    phone_raw = _party(attrs, "phone")
    phone_country = _phone_region(phone) if phone_raw.startswith(("+", "00")) else None
    national = nz.phone_national(phone)

    family_code = nz.legal_family(form)
    hint = (
        hint
        or phone_country
        or next((c for c in map(nz.domain_country, domains) if c), None)
        or _FAMILY_COUNTRY.get(family_code or "")
    )

    street = nz.street(_party(attrs, "address_line1"))
    feats: dict[str, Any] = {
        "party_type": "individual" if individual else "organization",
        "name": name or None,
        "names": names,
        "compact": [n.replace(" ", "") for n in names],
        "tokens": sorted({t for n in names for t in nz.name_tokens(n)}),
        "legal_form": form,
        "legal_family": family_code,
        "domains": domains,
        "domain_labels": labels,
        "phone": phone,
        "phone_tail": national[-9:] if national else None,
        "tax_id": tax,
        "tax_valid": tax_valid,
        "country": explicit_country,
        "country_hint": explicit_country or hint,
        "street": street or None,
        "house": nz.house_number(street) if street else None,
        "city": nz.fold(_party(attrs, "city")) or None,
        "postal": nz.postal_code(_party(attrs, "postal_code")),
        # a person's own mailbox says who they are (an organisation's is its domain, above)
        "email": nz.email_address(_party(attrs, "email")) if individual else None,
        "source_id": _party(attrs, "source_id") or None,
        "parent_ref": _party(attrs, "parent_source_id") or None,
        "system": _party(attrs, "system") or None,
    }
    if individual or given or family:
        feats.update(
            {
                "given": given or None,
                "given_forms": list(nz.given_name_forms(given)) if given else [],
                "family": family or None,
                "generation": nz.generation(_party(attrs, "family_name"), _party(attrs, "name"))
                if individual
                else None,
                "birth_date": nz.birth_date(_party(attrs, "birth_date"), explicit_country),
                "national_id": nz.national_id(_party(attrs, "national_id")),
            }
        )
    return feats


def product_features(attrs: Mapping[str, Any]) -> dict[str, Any]:
    name = nz.fold(_s(attrs, "name"))
    return {
        "name": name or None,
        "compact": [name.replace(" ", "")] if name else [],
        "tokens": sorted(set(nz.name_tokens(name))),
        "code": nz.national_id(_s(attrs, "code")),
        "category": nz.fold(_s(attrs, "category")) or None,
    }


def _codes(raw: Any) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple | set) else str(raw).replace(";", ",").split(",")
    return sorted({c for c in (nz.national_id(str(i)) for i in items) if c})


def contract_features(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customer_ref": _s(attrs, "customer_ref") or None,
        "product_codes": _codes(attrs.get("product_codes")),
        "start_date": nz.birth_date(_s(attrs, "start_date")),
        "end_date": nz.birth_date(_s(attrs, "end_date")),
        "status": nz.fold(_s(attrs, "status")) or None,
    }


def entitlement_features(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customer_ref": _s(attrs, "customer_ref") or None,
        "contract_ref": _s(attrs, "contract_ref") or None,
        "product_code": nz.national_id(_s(attrs, "product_code")),
        "sla_level": nz.fold(_s(attrs, "sla_level")) or None,
        "start_date": nz.birth_date(_s(attrs, "start_date")),
        "end_date": nz.birth_date(_s(attrs, "end_date")),
    }


_BUILDERS = {
    "customer": customer_features,
    "product": product_features,
    "contract": contract_features,
    "entitlement": entitlement_features,
}


def features(domain: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised features of one record of ``domain`` (customer, product, contract, entitlement)."""
    try:
        builder = _BUILDERS[domain]
    except KeyError:
        raise ValueError(f"unknown domain {domain!r}") from None
    return builder(attrs)
