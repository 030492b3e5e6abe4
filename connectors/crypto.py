"""Secrets at rest: Fernet tokens keyed from SECRET_KEY, and masks that never show a secret back in full."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    # Derived rather than SECRET_KEY itself so the key is 32 bytes whatever SECRET_KEY looks like, and
    # labelled so the same SECRET_KEY never keys two different uses.
    digest = hashlib.sha256(f"mdm-connectors:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(values: dict[str, Any]) -> str:
    """A Fernet token holding `values` as JSON."""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    """The values inside a token from `encrypt_json`; empty for an empty token."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("The connection secrets cannot be decrypted: was SECRET_KEY changed?") from exc


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    if len(secret) <= 8:
        return "••••"
    return f"••••{secret[-4:]}"
