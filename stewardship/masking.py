"""Personal data a viewer must not read: masked on the server before any template sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Attributes that are personal data of a person wherever they appear.
PERSONAL = {"email", "phone", "given_name", "family_name", "birth_date", "national_id", "account_owner"}
# Attributes that name an individual (an organisation's name is not personal data).
PERSON_NAMES = {"name", "legal_name"}
MASK = "•••"


def mask_value(value: Any) -> Any:
    """A value with all but a hint hidden: enough to tell two values apart, not to read one."""
    if value is None or value == "":
        return value
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    text = str(value)
    if "@" in text:
        return f"{text[0]}{MASK}@{MASK}"
    return f"{text[0]}{MASK}" if len(text) > 2 else MASK


def is_personal(attribute: str, attributes: Mapping[str, Any]) -> bool:
    """Whether `attribute` of a record with these attributes is personal data."""
    if attribute in PERSONAL:
        return True
    return attribute in PERSON_NAMES and attributes.get("party_type") == "individual"


def mask_attributes(attributes: Mapping[str, Any], masked: bool) -> dict[str, Any]:
    """`attributes` with personal values masked when `masked`."""
    if not masked:
        return dict(attributes)
    return {k: mask_value(v) if is_personal(k, attributes) else v for k, v in attributes.items()}


def display_name(name: str, attributes: Mapping[str, Any], masked: bool) -> str:
    """A golden record's listed name, masked for a viewer when it names an individual."""
    if masked and attributes.get("party_type") == "individual":
        return str(mask_value(name))
    return name
