"""A stand-in of the Zendesk Support API: time-based incremental export of organizations, cursor-based
incremental export of users, the incremental endpoints' own rate limit (429 with Retry-After),
`create_or_update` by external ID, and webhooks signed base64(HMAC-SHA256(timestamp + body))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from . import demo
from .server import Reply, Request, Sandbox


class ZendeskSandbox(Sandbox):
    """Stateful Zendesk account stand-in."""

    name = "zendesk-sandbox"
    email = "hub@example.com"
    api_token = "zd-sandbox-token"
    webhook_secret = "zd-webhook-secret"

    def __init__(
        self, *, clock: Any = None, seed: bool = True, page_size: int = 1000, export_limit: int = 10
    ) -> None:
        super().__init__(clock=clock)
        self.page_size = page_size
        # Incremental exports: `export_limit` requests per minute (10 on most plans).
        self.export_limit = export_limit
        self.export_hits: list[float] = []
        self.throttled: list[tuple[float, int]] = []  # (when, Retry-After given)
        self.orgs: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.route("GET", "/api/v2/incremental/organizations.json", self.export_orgs)
        self.route("GET", "/api/v2/incremental/users/cursor.json", self.export_users)
        self.route("GET", r"/api/v2/organizations/(?P<oid>\d+).json", self.show_org)
        self.route("POST", "/api/v2/organizations/create_or_update.json", self.create_or_update)
        if seed:
            demo.seed_zendesk(self)

    def error_body(self, status: int) -> Any:
        if status == 401:
            return {"error": "Couldn't authenticate you"}
        if status == 429:
            return {
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            }
        return {"error": "InternalError", "description": f"sandbox fault {status}"}

    def put_org(self, fields: dict[str, Any], *, at: Any = None) -> dict[str, Any]:
        with self.lock:
            oid = fields.get("id") or 360000000 + self.next_id()
            now = (at or self.clock.now()).strftime("%Y-%m-%dT%H:%M:%SZ")
            held = self.orgs.get(
                oid,
                {
                    "created_at": now,
                    "organization_fields": {},
                    "external_id": None,
                    "domain_names": [],
                    "details": "",
                    "notes": "",
                    "tags": [],
                },
            )
            fields_in = fields.get("organization_fields") or {}
            org = {
                **held,
                **fields,
                "id": oid,
                "updated_at": now,
                "url": f"{self.base_url if self.server else ''}/api/v2/organizations/{oid}.json",
                "organization_fields": {**held["organization_fields"], **fields_in},
            }
            self.orgs[oid] = org
            return org

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
        return hmac.compare_digest(request.header("authorization"), f"Basic {expected}")

    def _throttle(self) -> Reply | None:
        now = self.clock.now().timestamp()
        self.export_hits = [t for t in self.export_hits if t > now - 60]
        if len(self.export_hits) >= self.export_limit:
            wait = int(self.export_hits[0] + 60 - now) + 1
            self.throttled.append((now, wait))
            return Reply(429, self.error_body(429), {"Retry-After": str(wait)})
        self.export_hits.append(now)
        return None

    @staticmethod
    def _stamp(value: str) -> int:
        import datetime as dt

        return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())

    def export_orgs(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        if (limited := self._throttle()) is not None:
            return limited
        start = int(request.arg("start_time", "0") or 0)
        rows = sorted(
            (o for o in self.orgs.values() if self._stamp(o["updated_at"]) >= start),
            key=lambda o: (o["updated_at"], o["id"]),
        )
        page = rows[: self.page_size]
        if page:
            # A page never ends inside one second: the items sharing its last stamp all come with it, or the
            # next page (which restarts at end_time) would answer the same page for ever.
            last = page[-1]["updated_at"]
            page += [o for o in rows[self.page_size :] if o["updated_at"] == last]
        end_time = self._stamp(page[-1]["updated_at"]) if page else start
        done = len(page) == len(rows)
        # Time-based pages restart at end_time, so items sharing it are sent again (documented behaviour).
        return Reply(
            200,
            {
                "organizations": page,
                "count": len(page),
                "end_of_stream": done,
                "end_time": end_time,
                "next_page": None
                if done
                else f"{self.base_url}/api/v2/incremental/organizations.json?start_time={end_time}",
            },
        )

    def export_users(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        if (limited := self._throttle()) is not None:
            return limited
        cursor = request.arg("cursor")
        if cursor:
            after_stamp, after_id = json.loads(base64.urlsafe_b64decode(cursor))
            rows = [u for u in self.users.values() if (u["updated_at"], u["id"]) > (after_stamp, after_id)]
        else:
            start = int(request.arg("start_time", "0") or 0)
            rows = [u for u in self.users.values() if self._stamp(u["updated_at"]) >= start]
        rows.sort(key=lambda u: (u["updated_at"], u["id"]))
        page = rows[: self.page_size]
        last = page[-1] if page else None
        export = f"{self.base_url}/api/v2/incremental/users/cursor.json"
        after = (
            base64.urlsafe_b64encode(json.dumps([last["updated_at"], last["id"]]).encode()).decode()
            if last
            else cursor
        )
        return Reply(
            200,
            {
                "users": page,
                "end_of_stream": len(rows) <= self.page_size,
                "after_cursor": after,
                "after_url": f"{export}?{urlencode({'cursor': after})}" if after else None,
                "before_cursor": None,
                "before_url": None,
            },
        )

    def show_org(self, request: Request, oid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        org = self.orgs.get(int(oid))
        if org is None:
            return Reply(404, {"error": "RecordNotFound", "description": "Not found"})
        return Reply(200, {"organization": org})

    def create_or_update(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        fields = request.json().get("organization") or {}
        held = self.orgs.get(int(fields["id"])) if fields.get("id") else None
        if held is None and fields.get("external_id"):
            held = next(
                (o for o in self.orgs.values() if o.get("external_id") == fields["external_id"]), None
            )
        if held is None and not fields.get("name"):
            return Reply(
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"name": [{"description": "Name: cannot be blank"}]},
                },
            )
        org = self.put_org({**fields, "id": held["id"] if held else None})
        return Reply(200 if held else 201, {"organization": org})

    def signed_webhook(
        self, payload: dict[str, Any], *, secret: str | None = None, timestamp: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of a webhook as Zendesk signs them."""
        body = json.dumps(payload).encode()
        stamp = timestamp or self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hmac.new(
            (secret or self.webhook_secret).encode(), stamp.encode() + body, hashlib.sha256
        ).digest()
        return {
            "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
            "Content-Type": "application/json",
        }, body

    def org_event(self, oid: int, kind: str = "organization.created") -> dict[str, Any]:
        return {
            "type": f"zen:event-type:{kind}",
            "account_id": 1,
            "id": secrets.token_hex(16),
            "time": self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "zendesk_event_version": "2022-11-06",
            "subject": f"zen:organization:{oid}",
            "detail": self.orgs[oid],
            "event": {},
        }
