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


__all__ = ["SANDBOXES", "Fault", "Reply", "Request", "Sandbox", "run_all"]
