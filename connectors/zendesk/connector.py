"""The Zendesk connector: incremental exports (time-based for organizations, cursor-based for users),
API-token auth, create_or_update by external ID, and X-Zendesk-Webhook-Signature webhooks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..base import ConfigField, Connector, Golden, Page, WebhookMessage, create_missing
from ..http import ApiClient, BasicAuth, InvalidSignature, PermanentError
from ..http.paging import by_next_url
from ..signatures import b64_hmac, check_equal, check_timestamp
from . import mapping


class ZendeskConnector(Connector):
    """Zendesk Support API."""

    key = "zendesk"
    label = "Zendesk"
    system_kind = "support"
    config_fields = (
        ConfigField("base_url", "https://{subdomain}.zendesk.com", kind="url"),
        ConfigField("email", "Agent e-mail of the API token"),
        ConfigField("api_token", "API token", secret=True),
        ConfigField("webhook_secret", "Webhook signing secret", secret=True, required=False),
        create_missing("organizations for customers"),
    )
    streams = {"customer": ("organizations", "users")}
    push_domains = ("customer",)
    pushes_support_terms = True

    def make_client(self) -> ApiClient:
        return ApiClient(
            base_url=self.config["base_url"],
            auth=BasicAuth(f"{self.config['email']}/token", self.config["api_token"]),
            clock=self.clock,
            correlation_id=self.correlation_id,
            max_attempts=self.max_attempts,
            headers={"X-Zendesk-Request-Source": "mdm-hub"},
        )

    def pull(
        self, domain: str, stream: str, position: dict[str, Any], *, overlap: dt.timedelta
    ) -> Iterator[Page]:
        if stream == "organizations":
            yield from self._organizations(position, overlap)
        else:
            yield from self._users(position, overlap)

    def _organizations(self, position: dict[str, Any], overlap: dt.timedelta) -> Iterator[Page]:
        """Time-based export: the position is the page's `end_time`; the next page starts there."""
        start = max(int(position.get("start_time", 0)) - int(overlap.total_seconds()), 0)
        first = f"/api/v2/incremental/organizations.json?start_time={start}"
        for rows, body in by_next_url(
            self.client, first, items="organizations", next_url="next_page", done="end_of_stream"
        ):
            yield Page([mapping.organization(o) for o in rows], {"start_time": body.get("end_time", start)})

    def _users(self, position: dict[str, Any], overlap: dt.timedelta) -> Iterator[Page]:
        """Cursor-based export: the position is `after_cursor`, which Zendesk keeps valid to resume."""
        if position.get("cursor"):
            first = f"/api/v2/incremental/users/cursor.json?cursor={position['cursor']}"
        else:
            first = "/api/v2/incremental/users/cursor.json?start_time=0"
        for rows, body in by_next_url(
            self.client, first, items="users", next_url="after_url", done="end_of_stream"
        ):
            users = [mapping.user(u) for u in rows if u.get("role") == "end-user"]
            yield Page(users, {"cursor": body.get("after_cursor")}, read=len(rows))

    @classmethod
    def verify_webhook(
        cls, *, config: Mapping[str, Any], headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> WebhookMessage:
        """base64(HMAC-SHA256(secret, timestamp + body)) in X-Zendesk-Webhook-Signature."""
        secret = config.get("webhook_secret")
        signature = headers.get("X-Zendesk-Webhook-Signature", "")
        stamp = headers.get("X-Zendesk-Webhook-Signature-Timestamp", "")
        if not secret or not signature or not stamp:
            raise InvalidSignature("missing Zendesk signature headers or webhook secret")
        check_equal(b64_hmac(secret, stamp.encode() + body), [signature])
        check_timestamp(stamp, now)
        event = json.loads(body)
        if not event.get("id"):
            raise InvalidSignature("event without an id")
        return WebhookMessage(event_id=str(event["id"]), event_type=event.get("type", ""), payload=event)

    def webhook_records(self, message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        subject = str(message.get("subject", ""))
        if not subject.startswith("zen:organization:"):
            return []
        try:
            org = self.client.get_json(f"/api/v2/organizations/{subject.rsplit(':', 1)[1]}.json")
        except PermanentError as exc:
            if exc.status == 404:
                return []
            raise
        return [("customer", mapping.organization(org["organization"]))]

    def push(self, golden: Golden) -> dict[str, list[str]]:
        if golden.domain != "customer" or golden.extra.get("status") == "retired":
            return {}
        body = mapping.organization_writeback(golden.golden_id, golden.extra.get("support", {}))
        targets: list[dict[str, Any]] = [{"id": int(s), **body} for s in golden.source_ids if s.isdigit()]
        if not targets and self.config.get("create_missing"):
            # create_or_update matches on external_id: a retry updates the organization the first made.
            targets = [{"name": golden.extra.get("name") or golden.golden_id, **body}]
        written = []
        for organization in targets:
            answer = self.client.request(
                "POST", "/api/v2/organizations/create_or_update.json", json={"organization": organization}
            ).json()
            written.append(str(answer["organization"]["id"]))
        return {"organizations": written} if written else {}


CONNECTOR = ZendeskConnector
