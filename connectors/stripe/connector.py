"""The Stripe connector: keyset listing for a full read, then the events feed for incremental reads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..base import ConfigField, Connector, Golden, Page, WebhookMessage, create_missing
from ..http import ApiClient, BearerAuth, InvalidSignature, PermanentError
from ..http.paging import by_keyset
from ..signatures import check_equal, check_timestamp, hex_hmac
from . import mapping

# Per stream: list path, events type filter, retrieve expansions, mapper, domain.
STREAMS: dict[str, tuple[str, str, list[str], Callable[..., dict[str, Any]], str]] = {
    "customers": ("/v1/customers", "customer.*", ["tax_ids"], mapping.customer, "customer"),
    "products": ("/v1/products", "product.*", ["default_price"], mapping.product, "product"),
    "subscriptions": ("/v1/subscriptions", "customer.subscription.*", [], mapping.contract, "contract"),
}
OBJECT_STREAMS = {"customer": "customers", "product": "products", "subscription": "subscriptions"}
# How many changed objects are fetched and stored per page of an incremental read.
BATCH = 100


class StripeConnector(Connector):
    """Stripe Billing (API keys, `starting_after` paging, events feed, Idempotency-Key on writes)."""

    key = "stripe"
    label = "Stripe"
    system_kind = "billing"
    config_fields = (
        ConfigField("api_base", "API base URL", default="https://api.stripe.com", kind="url"),
        ConfigField("api_key", "Secret key (sk_…)", secret=True),
        ConfigField("webhook_secret", "Webhook signing secret (whsec_…)", secret=True, required=False),
        create_missing("customers"),
        ConfigField("page_size", "Objects per list page (max 100)", required=False, default=100, kind="int"),
    )
    streams = {"customer": ("customers",), "product": ("products",), "contract": ("subscriptions",)}
    push_domains = ("customer",)

    def make_client(self) -> ApiClient:
        return ApiClient(
            base_url=self.config["api_base"],
            auth=BearerAuth(self.config["api_key"]),
            clock=self.clock,
            correlation_id=self.correlation_id,
            max_attempts=self.max_attempts,
            headers={"Stripe-Version": "2024-06-20"},
        )

    # --- inbound ----------------------------------------------------------------------------------
    def pull(
        self, domain: str, stream: str, position: dict[str, Any], *, overlap: dt.timedelta
    ) -> Iterator[Page]:
        if position.get("mode") == "events":
            yield from self._changed(stream, int(position["since"]), overlap)
        else:
            yield from self._listing(stream, position)

    def _listing(self, stream: str, position: dict[str, Any]) -> Iterator[Page]:
        """Everything, newest first; what is created meanwhile is in the events feed from `since` on."""
        path, _, expand, mapper, _ = STREAMS[stream]
        since = int(position.get("since") or self.clock.now().timestamp())
        params: dict[str, Any] = {"limit": self.config.get("page_size", 100)}
        if expand:
            params["expand[]"] = [f"data.{e}" for e in expand]
        if stream == "subscriptions":
            params["status"] = "all"
        for data, body in by_keyset(self.client, path, params=params, starting_after=position.get("after")):
            last = body.get("has_more") and data
            next_position = (
                {"mode": "list", "after": data[-1]["id"], "since": since}
                if last
                else {"mode": "events", "since": since}
            )
            yield Page([mapper(o) for o in data], next_position)

    def _changed(self, stream: str, since: int, overlap: dt.timedelta) -> Iterator[Page]:
        """Objects named by events since `since` (less the overlap), oldest change first, fetched fresh.

        Stripe keeps events for 30 days: a cursor older than that needs a full re-sync.
        """
        event_type = STREAMS[stream][1]
        params = {"limit": 100, "type": event_type, "created[gte]": since - int(overlap.total_seconds())}
        latest: dict[str, int] = {}
        for data, _ in by_keyset(self.client, "/v1/events", params=params):
            for event in data:
                obj = event["data"]["object"]
                if OBJECT_STREAMS.get(obj.get("object", "")) != stream:
                    continue  # `customer.*` also matches customer.subscription.* events
                oid = obj["id"]
                latest[oid] = max(latest.get(oid, 0), event["created"])
        ordered = sorted(latest.items(), key=lambda item: (item[1], item[0]))
        for start in range(0, len(ordered), BATCH):
            batch = ordered[start : start + BATCH]
            records = [r for oid, at in batch if (r := self._fetch(stream, oid, at)) is not None]
            yield Page(records, {"mode": "events", "since": max(since, batch[-1][1])}, read=len(batch))

    def _fetch(self, stream: str, oid: str, changed_at: int | None) -> dict[str, Any] | None:
        path, _, expand, mapper, _ = STREAMS[stream]
        try:
            obj = self.client.get_json(f"{path}/{oid}", params={"expand[]": expand} if expand else None)
        except PermanentError as exc:
            if exc.status == 404:
                return None  # deleted since the event; the hub keeps what it had
            raise
        if obj.get("deleted"):
            return None
        return mapper(obj, changed_at=changed_at)

    # --- webhooks ---------------------------------------------------------------------------------
    @classmethod
    def verify_webhook(
        cls, *, config: Mapping[str, Any], headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> WebhookMessage:
        """Stripe-Signature: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (several v1 during secret rolls)."""
        secret = config.get("webhook_secret")
        header = headers.get("Stripe-Signature") or headers.get("stripe-signature") or ""
        if not secret or not header:
            raise InvalidSignature("missing Stripe-Signature or webhook secret")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        stamps = [v for k, v in parts if k.strip() == "t"]
        signatures = [v for k, v in parts if k.strip() == "v1"]
        if not stamps or not signatures:
            raise InvalidSignature("malformed Stripe-Signature")
        check_equal(hex_hmac(secret, stamps[0].encode() + b"." + body), signatures)
        check_timestamp(stamps[0], now)
        event = json.loads(body)
        return WebhookMessage(event_id=event["id"], event_type=event.get("type", ""), payload=event)

    def webhook_records(self, message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        obj = message.get("data", {}).get("object", {})
        stream = OBJECT_STREAMS.get(obj.get("object", ""))
        if stream is None:
            return []
        # Fetched fresh: an event's snapshot may be older than a later one delivered first.
        record = self._fetch(stream, obj["id"], message.get("created"))
        return [(STREAMS[stream][4], record)] if record else []

    # --- outbound ---------------------------------------------------------------------------------
    def push(self, golden: Golden) -> dict[str, list[str]]:
        if golden.domain != "customer" or golden.extra.get("status") == "retired":
            return {}
        written = []
        for cid in golden.source_ids:
            self.client.request(
                "POST",
                f"/v1/customers/{cid}",
                data=mapping.customer_writeback(golden.golden_id, golden.attributes),
            )
            written.append(cid)
        if not written and self.config.get("create_missing"):
            written.append(self._create(golden))
        return {"customer": written} if written else {}

    def _create(self, golden: Golden) -> str:
        """Find the customer an earlier push created, else create it under a per-golden idempotency key."""
        query = f"metadata['{mapping.HUB_PREFIX}golden_id']:'{golden.golden_id}'"
        found = self.client.get_json("/v1/customers/search", params={"query": query})["data"]
        if found:
            return found[0]["id"]
        created = self.client.request(
            "POST",
            "/v1/customers",
            data=mapping.customer_create(golden.golden_id, golden.attributes, golden.extra.get("name", "")),
            headers={"Idempotency-Key": f"mdm-create-{golden.golden_id}"},
        ).json()
        return created["id"]


CONNECTOR = StripeConnector
