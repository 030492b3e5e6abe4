"""Finds the connectors: every sub-package of `connectors` with a `connector.py` defining `CONNECTOR`."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path

from .base import Connector

_NOT_CONNECTORS = {"api", "http", "management", "migrations", "sandbox", "services"}


@functools.cache
def connectors() -> dict[str, type[Connector]]:
    """Connector classes by key."""
    found: dict[str, type[Connector]] = {}
    package = Path(__file__).parent
    for module in pkgutil.iter_modules([str(package)]):
        if not module.ispkg or module.name in _NOT_CONNECTORS:
            continue
        if not (package / module.name / "connector.py").exists():
            continue
        connector = importlib.import_module(f"connectors.{module.name}.connector").CONNECTOR
        found[connector.key] = connector
    return found


def get(key: str) -> type[Connector]:
    """The connector class for `key`; KeyError names the ones that exist."""
    try:
        return connectors()[key]
    except KeyError:
        raise KeyError(f"No connector {key!r}; known: {', '.join(sorted(connectors()))}") from None
