"""A stand-in of the Salesforce REST API: OAuth 2.0 client credentials, SOQL `query` with
`nextRecordsUrl` paging over Account, Contact, Product2, Contract and Entitlement, sObject PATCH by Id and
upsert by external ID field, Salesforce's error bodies (401 INVALID_SESSION_ID,
403 REQUEST_LIMIT_EXCEEDED)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from . import demo
from .server import Reply, Request, Sandbox

API = "/services/data/v60.0"
PREFIX = {"Account": "001", "Contact": "003", "Product2": "01t", "Contract": "800", "Entitlement": "550"}


def sf_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class SalesforceSandbox(Sandbox):
    """Stateful Salesforce org stand-in."""

    name = "salesforce-sandbox"
    client_id = "3MVG9sandbox"
    client_secret = "sandbox-secret"

    def __init__(self, *, clock: Any = None, seed: bool = True, batch_size: int = 2000) -> None:
        super().__init__(clock=clock)
        self.batch_size = batch_size
        self.objects: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in PREFIX}
        self.tokens: set[str] = set()
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        self.route("POST", "/services/oauth2/token", self.token)
        self.route("GET", f"{API}/query", self.query)
        self.route("GET", f"{API}/query/(?P<locator>[^/]+)", self.more)
        self.route("PATCH", f"{API}/sobjects/(?P<sobject>\\w+)/(?P<oid>[^/]+)", self.patch)
        self.route(
            "PATCH", f"{API}/sobjects/(?P<sobject>\\w+)/(?P<field>\\w+__c)/(?P<value>[^/]+)", self.upsert
        )
        if seed:
            demo.seed_salesforce(self)
            seed_service(self)

    def error_body(self, status: int) -> Any:
        codes = {
            401: ("Session expired or invalid", "INVALID_SESSION_ID"),
            403: ("TotalRequests Limit exceeded.", "REQUEST_LIMIT_EXCEEDED"),
            404: ("The requested resource does not exist", "NOT_FOUND"),
        }
        message, code = codes.get(status, ("An unexpected error occurred.", "UNKNOWN_EXCEPTION"))
        return [{"message": message, "errorCode": code}]

    def expire_tokens(self) -> None:
        """Every issued token stops working, as after a session timeout."""
        with self.lock:
            self.tokens.clear()

    def put(self, sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Insert or change a record, stamping SystemModstamp like the platform does."""
        with self.lock:
            oid = fields.get("Id") or f"{PREFIX[sobject]}{secrets.token_hex(6).upper()}"
            record = {**self.objects[sobject].get(oid, {}), **fields, "Id": oid}
            record["SystemModstamp"] = sf_time(self.clock.now())
            self.objects[sobject][oid] = record
            return record

    def _authorised(self, request: Request) -> bool:
        token = request.header("authorization").removeprefix("Bearer ")
        return token in self.tokens

    def token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in request.form().items()}
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return Reply(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        token = f"00D!{secrets.token_urlsafe(24)}"
        self.tokens.add(token)
        return Reply(
            200,
            {
                "access_token": token,
                "instance_url": self.base_url,
                "token_type": "Bearer",
                "issued_at": str(int(self.clock.now().timestamp() * 1000)),
                "id": f"{self.base_url}/id/00D/005",
                "signature": secrets.token_urlsafe(16),
            },
        )

    def _shape(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "attributes": {"type": sobject, "url": f"{API}/sobjects/{sobject}/{record['Id']}"}
        }
        for name in fields:
            if "." in name:
                rel, sub = name.split(".", 1)
                value = record.get(f"{rel}{sub}")
                row[rel] = {"attributes": {"type": "User"}, sub: value} if value is not None else None
            else:
                row[name] = record.get(name)
        return row

    def query(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        soql = request.arg("q", "") or ""
        match = re.match(r"\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(.*)$", soql, re.I | re.S)
        if not match or match.group(2) not in self.objects:
            return Reply(400, [{"message": f"unexpected token: {soql[:40]}", "errorCode": "MALFORMED_QUERY"}])
        fields = [f.strip() for f in match.group(1).split(",")]
        sobject, rest = match.group(2), match.group(3)
        rows = sorted(self.objects[sobject].values(), key=lambda r: (r["SystemModstamp"], r["Id"]))
        since = re.search(r"SystemModstamp\s*>=?\s*(\S+)", rest)
        if since:
            bound = dt.datetime.fromisoformat(since.group(1).replace("Z", "+00:00"))
            rows = [
                r
                for r in rows
                if dt.datetime.strptime(r["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z") >= bound
            ]
        shaped = [self._shape(sobject, r, fields) for r in rows]
        return self._page(shaped, secrets.token_hex(6), 0)

    def _page(self, rows: list[dict[str, Any]], locator: str, offset: int) -> Reply:
        self.cursors[locator] = rows
        batch = rows[offset : offset + self.batch_size]
        body: dict[str, Any] = {
            "totalSize": len(rows),
            "done": offset + len(batch) >= len(rows),
            "records": batch,
        }
        if not body["done"]:
            body["nextRecordsUrl"] = f"{API}/query/01g{locator}-{offset + self.batch_size}"
        return Reply(200, body)

    def more(self, request: Request, locator: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        key, _, offset = locator.removeprefix("01g").partition("-")
        if key not in self.cursors:
            return Reply(400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}])
        return self._page(self.cursors[key], key, int(offset))

    def patch(self, request: Request, sobject: str, oid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        if oid not in self.objects.get(sobject, {}):
            return Reply(404, self.error_body(404))
        self.put(sobject, {**request.json(), "Id": oid})
        return Reply(204, b"")

    def upsert(self, request: Request, sobject: str, field: str, value: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        found = [r for r in self.objects[sobject].values() if r.get(field) == value]
        if len(found) > 1:
            return Reply(300, [f"{API}/sobjects/{sobject}/{r['Id']}" for r in found])
        record = self.put(
            sobject, {**request.json(), field: value, **({"Id": found[0]["Id"]} if found else {})}
        )
        return Reply(
            200 if found else 201, {"id": record["Id"], "success": True, "errors": [], "created": not found}
        )


def seed_service(sandbox: SalesforceSandbox) -> None:
    """Contacts, contracts and entitlements on the demo accounts.

    Jane Doe works at Contoso (a contact of its account); Ada Lovelace is a private contact, a customer of
    her own. Northwind and Contoso hold contracts (products in `Product_Codes__c`); the entitlements point
    at their contract through the custom `Contract__c` lookup and carry the SLA in `SLA_Level__c`.
    """
    contacts = [
        ("003A000001", "001A000002", "Jane", "Doe", "jane.doe@contoso.de", "+49 30 1234568", "Berlin"),
        ("003A000002", None, "Ada", "Lovelace", "ada@lovelace.example", "+44 20 7946 0100", "London"),
    ]
    for oid, account, first, last, email, phone, city in contacts:
        sandbox.put(
            "Contact",
            {
                "Id": oid,
                "AccountId": account,
                "FirstName": first,
                "LastName": last,
                "Email": email,
                "Phone": phone,
                "MailingCity": city,
            },
        )
    contracts = [
        ("800A000001", "001A000001", "00000100", "2026-01-01", "2026-12-31", "Activated", 12, "CRM-CPP"),
        (
            "800A000002",
            "001A000002",
            "00000101",
            "2025-07-01",
            "2027-06-30",
            "Activated",
            24,
            "CRM-CPP;SUP-PREM",
        ),
    ]
    for oid, account, number, start, end, status, term, products in contracts:
        sandbox.put(
            "Contract",
            {
                "Id": oid,
                "AccountId": account,
                "ContractNumber": number,
                "StartDate": start,
                "EndDate": end,
                "Status": status,
                "ContractTerm": term,
                "Product_Codes__c": products,
            },
        )
    entitlements = [
        (
            "550A000001",
            "001A000001",
            "800A000001",
            "Standard Support",
            "Standard",
            "CRM-CPP",
            "2026-01-01",
            "2026-12-31",
        ),
        (
            "550A000002",
            "001A000002",
            "800A000002",
            "Premier Support",
            "Premium",
            "SUP-PREM",
            "2025-07-01",
            "2027-06-30",
        ),
    ]
    for oid, account, contract, name, sla, product, start, end in entitlements:
        sandbox.put(
            "Entitlement",
            {
                "Id": oid,
                "Name": name,
                "AccountId": account,
                "Contract__c": contract,
                "SLA_Level__c": sla,
                "Product_Code__c": product,
                "StartDate": start,
                "EndDate": end,
                "Status": "Active",
            },
        )
