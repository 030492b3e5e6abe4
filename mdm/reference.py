"""Reference data: product codes across systems.

A product is known by a different code in each system (the ERP's SKU, the billing plan code, the
CRM product code, the support service category). `CodeMapping` rows say which codes are one product;
a code nobody mapped and no product record carries is reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from .models import CodeMapping, GoldenRecord, SourceRecord, SourceSystem


def canonical_code(system: str, code: str) -> str:
    """The catalogue code of `system`'s `code`, or the code itself when it is not mapped."""
    mapping = CodeMapping.objects.filter(system__code=system, code=code).values_list(
        "canonical_code", flat=True
    )
    return mapping.first() or code


def canonical_codes(system: str, codes: Iterable[str]) -> dict[str, str]:
    """canonical_code for many codes of one system, in one query."""
    codes = list(codes)
    mapped = dict(
        CodeMapping.objects.filter(system__code=system, code__in=codes).values_list("code", "canonical_code")
    )
    return {code: mapped.get(code, code) for code in codes}


def translate(code: str, *, from_system: str, to_system: str) -> str | None:
    """`from_system`'s code as `to_system` knows it (outbound sync); None when it has none."""
    canonical = canonical_code(from_system, code)
    mapped = CodeMapping.objects.filter(system__code=to_system, canonical_code=canonical)
    found = mapped.values_list("code", flat=True).first()
    if found:
        return found
    held = SourceRecord.objects.filter(system__code=to_system, domain="product", attributes__code=canonical)
    return canonical if held.exists() else None


def product_for(system: str, code: str) -> GoldenRecord | None:
    """The golden product that `system`'s `code` names, through the mappings and the product records."""
    canonical = canonical_code(system, code)
    codes = {canonical, code}
    codes |= set(CodeMapping.objects.filter(canonical_code=canonical).values_list("code", flat=True))
    record = (
        SourceRecord.objects.filter(domain="product", attributes__code__in=list(codes), golden__isnull=False)
        .order_by("pk")
        .first()
    )
    return record.golden if record else None


@transaction.atomic
def map_code(*, system: SourceSystem, code: str, canonical: str, owner: str, note: str = "") -> CodeMapping:
    """Create or change a mapping; product records carrying the code are re-resolved with it."""
    mapping, _ = CodeMapping.objects.update_or_create(
        domain="product", system=system, code=code,
        defaults={"canonical_code": canonical, "owner": owner, "note": note},
    )  # fmt: skip
    affected = list(
        SourceRecord.objects.filter(system=system, domain="product", attributes__code=code).values_list(
            "pk", flat=True
        )
    )
    if affected:
        from matching.services import refresh_features

        refresh_features(affected)
    return mapping


def unmapped_codes() -> list[dict[str, Any]]:
    """Product codes named by contracts and entitlements that resolve to no product: a work list."""
    named: dict[tuple[str, str], int] = {}
    rows = SourceRecord.objects.filter(domain__in=["contract", "entitlement"]).select_related("system")
    for record in rows.only("system__code", "attributes", "domain"):
        codes = record.attributes.get("product_codes") or [record.attributes.get("product_code")]
        for code in filter(None, codes):
            named[(record.system.code, code)] = named.get((record.system.code, code), 0) + 1
    return [
        {"system": system, "code": code, "references": count}
        for (system, code), count in sorted(named.items())
        if product_for(system, code) is None
    ]


def in_system_codes(golden: GoldenRecord, system: str) -> dict[str, Any]:
    """The golden attributes with product codes written as `system` knows them (outbound sync).

    A product carries its code in each system; a contract's or entitlement's codes are translated
    from the system the surviving value came from. A code `system` has no mapping for is left out and
    listed under `unmapped_codes`, never guessed.
    """
    attributes = dict(golden.attributes)
    if golden.domain == "product":
        own = (attributes.get("codes") or {}).get(system)
        if own is None and attributes.get("code"):
            attributes["unmapped_codes"] = [attributes["code"]]
        attributes["code"] = own
        return attributes
    for name in ("product_codes", "product_code"):
        if name not in attributes:
            continue
        origin = (golden.lineage.get(name) or {}).get("system", system)
        codes = attributes[name] if isinstance(attributes[name], list) else [attributes[name]]
        translated = {code: translate(code, from_system=origin, to_system=system) for code in codes}
        unmapped = [code for code, mine in translated.items() if mine is None]
        kept = [mine for mine in translated.values() if mine is not None]
        attributes[name] = kept if isinstance(attributes[name], list) else (kept[0] if kept else None)
        if unmapped:
            attributes["unmapped_codes"] = unmapped
    return attributes
