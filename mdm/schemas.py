"""The canonical schema of each domain and the validation of incoming records against it.

A schema is a small table of typed fields rather than a DRF serializer: ingest validates thousands of
records a second and a serializer per record costs several times more. Errors are per field, readable,
and stored with a quarantined record.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from matching import normalize

from .choices import Domain

Errors = dict[str, list[str]]


class Invalid(ValueError):
    """A value that does not fit its field."""


def _text(value: Any) -> str:
    return str(value).strip()


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# day and month separated by a slash or dash: in that order in most countries, the other way in the US
_EITHER_ORDER = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-]\d{4}$")


def _date(value: Any, country: str | None = None) -> str:
    """An ISO date from the forms systems write dates in: ISO (a date-time's date too), D.M.Y and
    D/M/Y (M/D/Y for a US record, or where only that reading is a date), YYYYMMDD and '3 March 1980'.

    A support desk's or ERP's date of birth is rarely ISO; rejecting those records took every one of
    them out of matching. A record that gives no country cannot say whether 03/08 is March or August:
    such a date is refused rather than guessed.
    """
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    either = _EITHER_ORDER.match(text)
    if either and country is None:
        first, second = (int(part) for part in either.groups())
        if first != second and first <= 12 and second <= 12:
            raise Invalid(f"{text!r} could be day/month or month/day: write it as YYYY-MM-DD")
    parsed = normalize.birth_date(text[:10] if _ISO_DAY.match(text) else text, country)
    if parsed is None:
        raise Invalid(f"{text!r} is not a date (YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or 3 March 1980)")
    return parsed


def _datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = parse_datetime(text) or _from_date_only(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise Invalid(f"{text!r} is not a date-time (ISO 8601)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _from_date_only(text: str) -> dt.datetime | None:
    day = parse_date(text)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if day else None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "t"}:
        return True
    if text in {"0", "false", "no", "n", "f"}:
        return False
    raise Invalid(f"{value!r} is not true or false")


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise Invalid(f"{value!r} is not a whole number") from exc


def _decimal(value: Any) -> str:
    try:
        return str(Decimal(str(value).strip()))
    except InvalidOperation as exc:
        raise Invalid(f"{value!r} is not a number") from exc


def _codes(value: Any) -> list[str]:
    """A list of codes, given as a list or as one comma- or semicolon-separated string."""
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "date": _date,
    "datetime": _datetime,
    "bool": _bool,
    "int": _int,
    "decimal": _decimal,
    "codes": _codes,
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"
    required: bool = False
    max_length: int = 300
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """An attribute naming a record of another domain by its source ID (in this or another system)."""

    attribute: str
    domain: str
    system_attribute: str


@dataclass(frozen=True)
class Schema:
    domain: str
    fields: tuple[Field, ...]
    references: tuple[Reference, ...] = ()
    # At least one of these must be present (e.g. a customer needs some kind of name).
    one_of: tuple[str, ...] = ()
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


_COMMON = (
    Field("source_id", required=True, max_length=120),
    Field("updated_at", "datetime"),
)

SCHEMAS: dict[str, Schema] = {
    Domain.CUSTOMER: Schema(
        Domain.CUSTOMER,
        (
            *_COMMON,
            Field("party_type", choices=("organization", "individual")),
            Field("name"),
            Field("legal_name"),
            Field("given_name", max_length=120),
            Field("family_name", max_length=120),
            Field("birth_date", "date"),
            Field("national_id", max_length=60),
            Field("tax_id", max_length=60),
            Field("website"),
            Field("email"),
            Field("phone", max_length=60),
            Field("address_line1"),
            Field("address_line2"),
            Field("city", max_length=120),
            Field("region", max_length=120),
            Field("postal_code", max_length=30),
            Field("country", max_length=80),
            Field("address_role", choices=("bill_to", "ship_to", "main")),
            Field("parent_source_id", max_length=120),
            Field("payment_status", choices=("current", "overdue")),
            Field("credit_hold", "bool"),
            Field("overdue_balance", "decimal"),
            Field("account_owner", max_length=120),
        ),
        one_of=("name", "legal_name", "family_name"),
    ),
    Domain.PRODUCT: Schema(
        Domain.PRODUCT,
        (
            *_COMMON,
            Field("name", required=True),
            Field("code", max_length=80),
            Field("category", max_length=120),
            Field("description", max_length=2000),
        ),
    ),
    Domain.CONTRACT: Schema(
        Domain.CONTRACT,
        (
            *_COMMON,
            Field("customer_source_id", required=True, max_length=120),
            Field("customer_system", max_length=40),
            Field("product_codes", "codes"),
            Field("start_date", "date"),
            Field("end_date", "date"),
            Field("status", max_length=30),
            Field("term_months", "int"),
        ),
        references=(Reference("customer_source_id", Domain.CUSTOMER, "customer_system"),),
    ),
    Domain.ENTITLEMENT: Schema(
        Domain.ENTITLEMENT,
        (
            *_COMMON,
            Field("customer_source_id", required=True, max_length=120),
            Field("customer_system", max_length=40),
            Field("contract_source_id", max_length=120),
            Field("contract_system", max_length=40),
            Field("product_code", max_length=80),
            Field("sla_level", max_length=40),
            Field("start_date", "date"),
            Field("end_date", "date"),
            Field("status", max_length=30),
        ),
        references=(
            Reference("customer_source_id", Domain.CUSTOMER, "customer_system"),
            Reference("contract_source_id", Domain.CONTRACT, "contract_system"),
        ),
    ),
}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _placeholder(domain: str, value: Any) -> bool:
    # a party's "N/A" is no value (normalize.is_placeholder); another domain's "unknown" may be one
    return domain == Domain.CUSTOMER and isinstance(value, str) and normalize.is_placeholder(value)


def _held(placeholders: Mapping[str, str], names: Iterable[str]) -> str:
    held = [f"{placeholders[n]!r}" for n in names if n in placeholders]
    return f" ({', '.join(held)} {'holds' if len(held) == 1 else 'hold'} no value)" if held else ""


def validate(domain: str, payload: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    """Canonical attributes of `payload` and the errors found; unknown keys are kept in raw only."""
    schema = SCHEMAS[domain]
    clean: dict[str, Any] = {}
    errors: Errors = {}
    placeholders: dict[str, str] = {}
    country = normalize.country(str(payload.get("country") or "")) if "country" in schema.by_name else None
    for spec in schema.fields:
        value = payload.get(spec.name)
        if is_blank(value) or _placeholder(domain, value):
            if isinstance(value, str) and value.strip():
                placeholders[spec.name] = value.strip()
            if spec.required:
                errors.setdefault(spec.name, []).append(
                    "This field is required." + _held(placeholders, [spec.name])
                )
            continue
        try:
            parsed = _date(value, country) if spec.kind == "date" else PARSERS[spec.kind](value)
        except Invalid as exc:
            errors.setdefault(spec.name, []).append(str(exc))
            continue
        if isinstance(parsed, str):
            if len(parsed) > spec.max_length:
                errors.setdefault(spec.name, []).append(f"Longer than {spec.max_length} characters.")
                continue
            if spec.choices and parsed not in spec.choices:
                errors.setdefault(spec.name, []).append(
                    f"{parsed!r} is not one of {', '.join(spec.choices)}."
                )
                continue
        clean[spec.name] = parsed
    if schema.one_of and not any(name in clean for name in schema.one_of):
        errors.setdefault("__all__", []).append(
            f"One of {', '.join(schema.one_of)} is required." + _held(placeholders, schema.one_of)
        )
    if domain == Domain.CUSTOMER and "party_type" not in clean:
        named_as_person = "family_name" in clean and not ({"name", "legal_name"} & clean.keys())
        clean["party_type"] = "individual" if named_as_person else "organization"
    return clean, errors


def describe(errors: Errors) -> str:
    """One readable line for a person: `tax_id: ...; updated_at: ...`."""
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in sorted(errors.items()))
