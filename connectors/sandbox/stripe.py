"""A stand-in of the Stripe API: customers, products, prices, subscriptions and the events feed, with
`starting_after` list paging (newest first), form-encoded writes, Idempotency-Key replay, Stripe's
error bodies, and Stripe-Signature webhook signing (v1 = hex HMAC-SHA256 of "{t}.{payload}")."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from . import demo
from .server import Reply, Request, Sandbox

OBJECTS = {"customers": ("cus", "customer"), "products": ("prod", "product"), "prices": ("price", "price")}


def parse_form(form: dict[str, list[str]]) -> dict[str, Any]:
    """Stripe's bracket notation (`metadata[k]=v`, `items[0][price]=p`) into nested dicts."""
    result: dict[str, Any] = {}
    for key, values in form.items():
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = values[-1]
    return result


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header value for `payload`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class StripeSandbox(Sandbox):
    """Stateful Stripe stand-in for one account."""

    name = "stripe-sandbox"
    api_key = "sk_test_sandbox"
    webhook_secret = "whsec_sandbox"

    def __init__(self, *, clock: Any = None, seed: bool = True) -> None:
        super().__init__(clock=clock)
        self.store: dict[str, dict[str, dict[str, Any]]] = {
            "customers": {},
            "products": {},
            "prices": {},
            "subscriptions": {},
            "events": {},
        }
        self.order: dict[str, list[str]] = {k: [] for k in self.store}
        self.idempotency: dict[str, tuple[str, Reply]] = {}
        self.route("GET", "/v1/customers/search", self.search)  # before /v1/customers/{id}
        for name in ("customers", "products", "prices"):
            self.route("GET", f"/v1/{name}", lambda r, n=name: self.list(r, n))
            self.route("POST", f"/v1/{name}", lambda r, n=name: self.create(r, n))
            self.route("GET", f"/v1/{name}/(?P<oid>[^/]+)", lambda r, oid, n=name: self.retrieve(r, n, oid))
            self.route("POST", f"/v1/{name}/(?P<oid>[^/]+)", lambda r, oid, n=name: self.update(r, n, oid))
        self.route("GET", "/v1/subscriptions", lambda r: self.list(r, "subscriptions"))
        self.route(
            "GET", "/v1/subscriptions/(?P<oid>[^/]+)", lambda r, oid: self.retrieve(r, "subscriptions", oid)
        )
        self.route("GET", "/v1/events", lambda r: self.list(r, "events"))
        if seed:
            demo.seed_stripe(self)

    def error_body(self, status: int) -> Any:
        kinds = {
            401: ("invalid_request_error", "Invalid API Key provided."),
            404: ("invalid_request_error", "No such object."),
            429: ("invalid_request_error", "Request rate limit exceeded."),
        }
        kind, message = kinds.get(status, ("api_error", "An unknown error occurred."))
        error = {"type": kind, "message": message}
        if status == 429:
            error["code"] = "rate_limit"
        return {"error": error}

    # --- state ------------------------------------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        return hmac.compare_digest(request.header("authorization"), f"Bearer {self.api_key}")

    def put(self, kind: str, obj: dict[str, Any], *, event: str | None = None) -> dict[str, Any]:
        """Store an object (and its event); used by routes and by demo seeding."""
        with self.lock:
            if obj["id"] not in self.store[kind]:
                self.order[kind].append(obj["id"])
            self.store[kind][obj["id"]] = obj
            if event and kind != "events":
                # A creation event is as old as the object (demo objects are created in the past).
                at = obj.get("created") if event.endswith(".created") else None
                self.emit(event, obj, at=at)
            return obj

    def emit(self, event_type: str, obj: dict[str, Any], *, at: int | None = None) -> dict[str, Any]:
        event = {
            "id": f"evt_{secrets.token_hex(8)}",
            "object": "event",
            "type": event_type,
            "created": at or self.now_ts(),
            "data": {"object": copy.deepcopy(obj)},
            "request": {"id": None, "idempotency_key": None},
            "livemode": False,
            "api_version": "2024-06-20",
        }
        return self.put("events", event)

    def new(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        prefix, object_name = OBJECTS.get(kind, ("obj", kind))
        base: dict[str, Any] = {
            "id": f"{prefix}_{secrets.token_hex(7)}",
            "object": object_name,
            "created": self.now_ts(),
            "livemode": False,
            "metadata": {},
        }
        return {**base, **fields, "metadata": {**base["metadata"], **fields.get("metadata", {})}}

    # --- routes -----------------------------------------------------------------------------------
    def _expand(self, kind: str, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        if kind == "products" and {"data.default_price", "default_price"} & set(expand):
            price = self.store["prices"].get(obj.get("default_price") or "")
            obj["default_price"] = copy.deepcopy(price) if price else obj.get("default_price")
        if kind == "customers" and {"data.tax_ids", "tax_ids"} & set(expand):
            obj["tax_ids"] = {"object": "list", "data": obj.pop("_tax_ids", []), "has_more": False}
        obj.pop("_tax_ids", None)
        return obj

    def list(self, request: Request, kind: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        limit = min(int(request.arg("limit", "10") or 10), 100)
        items = [self.store[kind][oid] for oid in reversed(self.order[kind])]  # newest first
        gte = request.arg("created[gte]")
        if gte:
            items = [o for o in items if o["created"] >= int(gte)]
        wanted_type = request.arg("type")
        if wanted_type:
            pattern = re.compile("^" + re.escape(wanted_type).replace(r"\*", ".*") + "$")
            items = [o for o in items if pattern.match(o["type"])]
        if kind == "subscriptions" and request.arg("status") != "all":
            items = [o for o in items if o["status"] != "canceled"]
        after = request.arg("starting_after")
        if after:
            ids = [o["id"] for o in items]
            if after not in ids:
                return Reply(400, {"error": {"type": "invalid_request_error", "message": "No such object"}})
            items = items[ids.index(after) + 1 :]
        page = items[:limit]
        expand = request.query.get("expand[]", [])
        return Reply(
            200,
            {
                "object": "list",
                "url": f"/v1/{kind}",
                "has_more": len(items) > limit,
                "data": [self._expand(kind, o, expand) for o in page],
            },
        )

    def retrieve(self, request: Request, kind: str, oid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        obj = self.store[kind].get(oid)
        if obj is None:
            return Reply(
                404, {"error": {"type": "invalid_request_error", "message": f"No such {kind[:-1]}: '{oid}'"}}
            )
        return Reply(200, self._expand(kind, obj, request.query.get("expand[]", [])))

    def search(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        match = re.fullmatch(r"metadata\['([^']+)'\]:'([^']*)'", request.arg("query", "") or "")
        if not match:
            return Reply(400, {"error": {"type": "invalid_request_error", "message": "Invalid search query"}})
        key, value = match.groups()
        found = [o for o in self.store["customers"].values() if o["metadata"].get(key) == value]
        return Reply(
            200,
            {
                "object": "search_result",
                "data": [self._expand("customers", o, []) for o in found],
                "has_more": False,
                "url": "/v1/customers/search",
            },
        )

    def _idempotent(self, request: Request, perform: Any) -> Reply:
        key = request.header("idempotency-key")
        if not key:
            return perform()
        fingerprint = hashlib.sha256(request.path.encode() + request.body).hexdigest()
        held = self.idempotency.get(key)
        if held is not None:
            if held[0] != fingerprint:
                return Reply(
                    400,
                    {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent "
                            "requests can only be used with the same parameters they were first used with.",
                        }
                    },
                )
            return Reply(held[1].status, held[1].body, {"Idempotent-Replayed": "true"})
        reply = perform()
        self.idempotency[key] = (fingerprint, reply)
        return reply

    def create(self, request: Request, kind: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))

        def perform() -> Reply:
            obj = self.put(
                kind, self.new(kind, parse_form(request.form())), event=f"{OBJECTS[kind][1]}.created"
            )
            return Reply(200, self._expand(kind, obj, []))

        return self._idempotent(request, perform)

    def update(self, request: Request, kind: str, oid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        obj = self.store[kind].get(oid)
        if obj is None:
            return Reply(
                404, {"error": {"type": "invalid_request_error", "message": f"No such {kind[:-1]}: '{oid}'"}}
            )

        def perform() -> Reply:
            fields = parse_form(request.form())
            metadata = {**obj["metadata"], **fields.pop("metadata", {})}
            updated = {**obj, **fields, "metadata": {k: v for k, v in metadata.items() if v != ""}}
            self.put(kind, updated, event=f"{OBJECTS[kind][1]}.updated")
            return Reply(200, self._expand(kind, updated, []))

        return self._idempotent(request, perform)

    # --- webhooks ---------------------------------------------------------------------------------
    def signed_event(
        self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of a webhook delivery of `event`, signed as Stripe signs them."""
        body = json.dumps(event).encode()
        stamp = self.now_ts() if timestamp is None else timestamp
        return {
            "Stripe-Signature": sign(body, secret or self.webhook_secret, stamp),
            "Content-Type": "application/json",
        }, body
