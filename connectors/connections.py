"""Connections: create and configure them against their connector's schema, with secrets encrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mdm.choices import Domain
from mdm.models import SourceSystem

from . import clock as clocks
from . import registry
from .base import ConfigField, Connector
from .crypto import decrypt_json, encrypt_json, mask
from .models import Connection

_PARSE = {
    "str": str,
    "url": lambda v: str(v).rstrip("/"),
    "int": int,
    "bool": lambda v: v if isinstance(v, bool) else str(v).lower() in {"1", "true", "yes", "on"},
}


def _parse(spec: ConfigField, value: Any) -> Any:
    value = _PARSE[spec.kind](value)
    if spec.kind == "url" and not str(value).startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value


def validate_config(
    connector: type[Connector], values: Mapping[str, Any], *, held: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plain settings, secret settings) from `values` merged over `held`; ValidationError per field."""
    merged = {**(held or {}), **{k: v for k, v in values.items() if v is not None}}
    known = {spec.name: spec for spec in connector.config_fields}
    errors: dict[str, list[str]] = {}
    for name in merged.keys() - known.keys():
        errors[name] = [f"Unknown setting for {connector.key}."]
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, spec in known.items():
        value = merged.get(name, spec.default)
        if value in (None, ""):
            if spec.required:
                errors[name] = ["This setting is required."]
            continue
        try:
            parsed = _parse(spec, value)
        except (TypeError, ValueError) as exc:
            errors[name] = [f"Invalid value: {exc}"]
            continue
        (secret if spec.secret else plain)[name] = parsed
    if errors:
        raise ValidationError(errors)
    return plain, secret


def _check_domains(connector: type[Connector], sync: list[str], push: list[str]) -> None:
    errors = {}
    if bad := [d for d in sync if d not in connector.streams]:
        errors["sync_domains"] = [f"{connector.key} cannot pull {', '.join(bad)}."]
    if bad := [d for d in push if d not in connector.push_domains or d not in Domain.values]:
        errors["push_domains"] = [f"{connector.key} cannot receive {', '.join(bad)}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def connection_create(
    *,
    name: str,
    connector: str,
    system: str,
    config: Mapping[str, Any],
    sync_domains: list[str] | None = None,
    push_domains: list[str] | None = None,
) -> Connection:
    """A new connection of `connector` feeding source system `system` (created if new)."""
    cls = registry.get(connector)
    plain, secret = validate_config(cls, config)
    sync = list(cls.streams) if sync_domains is None else sync_domains
    push = list(cls.push_domains) if push_domains is None else push_domains
    _check_domains(cls, sync, push)
    source, _ = SourceSystem.objects.get_or_create(
        code=system, defaults={"name": cls.label, "kind": cls.system_kind}
    )
    return Connection.objects.create(
        name=name,
        system=source,
        connector=connector,
        config=plain,
        secrets=encrypt_json(secret),
        sync_domains=sync,
        push_domains=push,
    )


def connection_configure(connection: Connection, *, values: Mapping[str, Any]) -> Connection:
    """Change some settings; secrets left out (or None) keep their value."""
    held = {**connection.config, **decrypt_json(connection.secrets)}
    plain, secret = validate_config(registry.get(connection.connector), values, held=held)
    connection.config = plain
    connection.secrets = encrypt_json(secret)
    connection.save(update_fields=["config", "secrets", "updated_at"])
    return connection


def connection_config(connection: Connection) -> dict[str, Any]:
    """Every setting in clear, for the connector only; never serialise this."""
    return {**connection.config, **decrypt_json(connection.secrets)}


def masked_config(connection: Connection) -> dict[str, Any]:
    """The settings as shown to people: secrets masked."""
    return {**connection.config, **{k: mask(str(v)) for k, v in decrypt_json(connection.secrets).items()}}


def open_connector(
    connection: Connection,
    *,
    correlation_id: str,
    clock: clocks.Clock | None = None,
    max_attempts: int = 5,
) -> Connector:
    """A connector instance for one run of `connection`."""
    return registry.get(connection.connector)(
        config=connection_config(connection),
        clock=clock or clocks.current(),
        correlation_id=correlation_id,
        max_attempts=max_attempts,
    )
