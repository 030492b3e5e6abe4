"""What a connector is: a config schema, pull by stream with a resumable position, push of golden records,
and webhook verification. Each vendor folder subclasses `Connector`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .clock import Clock
from .http import ApiClient


@dataclass(frozen=True)
class ConfigField:
    """One setting of a connection; `secret` ones are encrypted at rest and masked when shown."""

    name: str
    help: str = ""
    secret: bool = False
    required: bool = True
    default: Any = None
    kind: str = "str"  # str | int | bool | url


def create_missing(what: str) -> ConfigField:
    """The switch that lets a push create `what` for golden records the vendor does not hold."""
    return ConfigField(
        "create_missing",
        f"Create {what} the vendor does not hold",
        required=False,
        default=False,
        kind="bool",
    )


@dataclass
class Page:
    """Canonical records read from one page, and the position to store once they are safely ingested."""

    records: list[dict[str, Any]]
    position: dict[str, Any]
    read: int = 0


@dataclass
class Golden:
    """What a push needs to know about a golden change."""

    golden_id: str
    domain: str
    kind: str
    version: int
    attributes: dict[str, Any]
    # This system's own source IDs in the golden record (the vendor records to write back onto).
    source_ids: list[str]
    idempotency_key: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebhookMessage:
    """A verified webhook: its unique event ID, and the canonical records it carries per domain."""

    event_id: str
    event_type: str
    payload: dict[str, Any]


class Connector:
    """Base of every vendor connector; one instance serves one run with one correlation ID."""

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    system_kind: ClassVar[str] = "other"
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    # domain -> the vendor streams (objects) that feed it, read in this order.
    streams: ClassVar[dict[str, tuple[str, ...]]] = {}
    push_domains: ClassVar[tuple[str, ...]] = ()
    # Shows the hub's support terms (SLA, eligibility) on the customer: entitlement changes are pushed too.
    pushes_support_terms: ClassVar[bool] = False

    def __init__(
        self, *, config: Mapping[str, Any], clock: Clock, correlation_id: str, max_attempts: int = 5
    ) -> None:
        self.config = dict(config)
        self.clock = clock
        self.correlation_id = correlation_id
        self.max_attempts = max_attempts
        self.client = self.make_client()

    def make_client(self) -> ApiClient:
        raise NotImplementedError

    def close(self) -> None:
        self.client.close()

    def pull(
        self, domain: str, stream: str, position: dict[str, Any], *, overlap: dt.timedelta
    ) -> Iterator[Page]:
        """Pages of canonical records changed since `position` (everything when it is empty)."""
        raise NotImplementedError

    def push(self, golden: Golden) -> dict[str, list[str]]:
        """Write the golden ID and the attributes the hub owns onto the vendor's records; their IDs."""
        raise NotImplementedError

    @classmethod
    def verify_webhook(
        cls, *, config: Mapping[str, Any], headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> WebhookMessage:
        """Check the vendor's signature on a raw webhook; raise InvalidSignature when it does not hold."""
        raise NotImplementedError(f"{cls.key} does not receive webhooks")

    def webhook_records(self, message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The (domain, canonical record) pairs a stored webhook payload carries."""
        return []


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
