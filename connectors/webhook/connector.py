"""Generic signed webhooks: each golden-record event a subscriber's domains cover is POSTed to its URL.

Delivery is the hub's usual outbound path (outbox relay, one Delivery per connection, attempts, backoff,
dead letters, replay); this connector only shapes, signs and sends the request. See `signing.py`.
"""

from __future__ import annotations

import json
from typing import Any

from mdm.models import OutboxEvent

from ..base import ConfigField, Connector, Golden, iso
from ..http import ApiClient, Auth, ConnectorError, TransientError
from .signing import signature

EVENT_KINDS = ("created", "updated", "eligibility_changed", "merged", "retired", "split")
EVENT_ID_HEADER = "X-MDM-Event-Id"
TIMESTAMP_HEADER = "X-MDM-Timestamp"
SIGNATURE_HEADER = "X-MDM-Signature"


class WebhookConnector(Connector):
    """A subscriber URL that receives signed JSON events; it never pulls and receives nothing back."""

    key = "webhook"
    label = "Webhook subscriber"
    system_kind = "other"
    config_fields = (
        ConfigField("url", "Subscriber URL the events are POSTed to", kind="url"),
        ConfigField("signing_secret", "Secret the HMAC-SHA256 signature is keyed with", secret=True),
        ConfigField(
            "event_kinds",
            f"Comma-separated event kinds to send ({', '.join(EVENT_KINDS)}); empty sends every kind",
            required=False,
            default="",
        ),
        ConfigField(
            "timeout", "Seconds to wait for the subscriber's answer", required=False, default=10, kind="int"
        ),
    )
    streams: dict[str, tuple[str, ...]] = {}
    push_domains = ("customer", "product", "contract", "entitlement")

    def make_client(self) -> ApiClient:
        return ApiClient(
            base_url=self.config["url"],
            auth=Auth(),
            clock=self.clock,
            correlation_id=self.correlation_id,
            max_attempts=self.max_attempts,
            timeout=float(self.config.get("timeout") or 10),
        )

    def subscribes_to(self, kind: str) -> bool:
        kinds = {k.strip() for k in str(self.config.get("event_kinds") or "").split(",") if k.strip()}
        return not kinds or kind in kinds

    def push(self, golden: Golden) -> dict[str, list[str]]:
        """POST the event, signed; any answer but 2xx is raised as transient, so delivery retries it."""
        if not self.subscribes_to(golden.kind):
            return {}
        body = json.dumps(event_body(golden), separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: golden.idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.config["signing_secret"], timestamp, body),
        }
        try:
            self.client.request("POST", self.config["url"], content=body, headers=headers)
        except ConnectorError as exc:
            if exc.transient:
                raise
            # A subscriber's 4xx (or 401, 3xx) may be a deploy or a misconfiguration it will fix: retried
            # like a 5xx until the attempts run out, then dead-lettered for replay.
            raise TransientError(str(exc), status=exc.status, body=exc.body) from exc
        return {"event": [golden.idempotency_key]}


def event_body(golden: Golden) -> dict[str, Any]:
    """The JSON sent: the outbox event as written (kind, golden ID, domain, version, payload, key), and the
    golden record as it is now (following merges), since a retried or replayed event may arrive late."""
    golden_id, version, kind = golden.idempotency_key.split(":", 2)
    event = OutboxEvent.objects.filter(golden_id=golden_id, version=int(version), kind=kind).first()
    return {
        "idempotency_key": golden.idempotency_key,
        "kind": kind,
        "golden_id": golden_id,
        "domain": event.domain if event else golden.domain,
        "version": int(version),
        "payload": event.payload if event else {},
        "occurred_at": iso(event.created_at) if event else None,
        "record": {
            "golden_id": golden.golden_id,
            "status": golden.extra.get("status"),
            "name": golden.extra.get("name"),
            "attributes": golden.attributes,
        },
    }


CONNECTOR = WebhookConnector
