"""Stand-ins of the vendor APIs, for tests, the demo and benchmarks: `run_all()` starts every one."""

from __future__ import annotations

from typing import Any

from ..clock import Clock
from .netsuite import NetSuiteSandbox
from .salesforce import SalesforceSandbox
from .server import Fault, Reply, Request, Sandbox
from .stripe import StripeSandbox
from .zendesk import ZendeskSandbox

SANDBOXES: dict[str, type[Sandbox]] = {
    "netsuite": NetSuiteSandbox,
    "salesforce": SalesforceSandbox,
    "stripe": StripeSandbox,
    "zendesk": ZendeskSandbox,
}


def run_all(*, clock: Clock | None = None) -> dict[str, Any]:
    """Start every stand-in with its demo data on a free port; {vendor: sandbox}, each with `base_url`."""
    started: dict[str, Any] = {}
    for vendor, cls in SANDBOXES.items():
        sandbox = cls(clock=clock)
        sandbox.start()
        started[vendor] = sandbox
    return started


# vendor -> (source system code, {connection setting: sandbox attribute}).
CONNECTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "netsuite": (
        "erp",
        {
            "account_url": "base_url",
            "client_id": "client_id",
            "certificate_id": "certificate_id",
            "private_key": "private_key",
        },
    ),
    "salesforce": (
        "crm",
        {"login_url": "base_url", "client_id": "client_id", "client_secret": "client_secret"},
    ),
    "stripe": ("billing", {"api_base": "base_url", "api_key": "api_key"}),
    "zendesk": ("support", {"base_url": "base_url", "email": "email", "api_token": "api_token"}),
}


def connect(
    sandboxes: dict[str, Any], *, name: str = "{vendor}", sync_domains: list[str] | None = None
) -> dict:
    """A connection to each running stand-in, created or re-pointed at its new port; {vendor: connection}."""
    from ..connections import connection_configure, connection_create
    from ..models import Connection

    connections = {}
    for vendor, sandbox in sandboxes.items():
        system, fields = CONNECTIONS[vendor]
        config = {setting: getattr(sandbox, attribute) for setting, attribute in fields.items()}
        held = Connection.objects.filter(name=name.format(vendor=vendor)).first()
        if held is not None:
            connections[vendor] = connection_configure(held, values=config)
            continue
        connections[vendor] = connection_create(
            name=name.format(vendor=vendor),
            connector=vendor,
            system=system,
            config=config,
            sync_domains=sync_domains,
        )
    return connections


__all__ = ["CONNECTIONS", "SANDBOXES", "Fault", "Reply", "Request", "Sandbox", "connect", "run_all"]
