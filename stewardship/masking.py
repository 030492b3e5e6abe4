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


def person_of(*attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    """Of two compared records' attributes, the first individual's (else the first's): an individual on
    either side makes the compared names personal data."""
    return next((a for a in attributes if a.get("party_type") == "individual"), attributes[0])


def mask_contribution(contribution: Mapping[str, Any], person: Mapping[str, Any], masked: bool) -> dict:
    """One field's part of a match explanation, its compared values masked as the attribute of the
    field's name would be in `person`'s attributes."""
    if not masked or not is_personal(str(contribution.get("field")), person):
        return dict(contribution)
    left, right = mask_value(contribution.get("left")), mask_value(contribution.get("right"))
    return {**contribution, "left": left, "right": right}


def mask_explanation(explanation: Any, person: Mapping[str, Any], masked: bool) -> Any:
    """A stored match explanation (a list of field contributions, or a dict holding them) masked."""
    if isinstance(explanation, dict):
        parts = explanation.get("contributions") or []
        return {**explanation, "contributions": mask_explanation(parts, person, masked)}
    return [mask_contribution(c, person, masked) if isinstance(c, dict) else c for c in explanation or []]
