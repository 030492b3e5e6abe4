"""A stand-in of NetSuite SuiteTalk REST web services: the OAuth 2.0 client credentials (M2M) token
endpoint that verifies a PS256/RS256-signed JWT assertion against the registered certificate, SuiteQL
(`POST /services/rest/query/v1/suiteql`, `Prefer: transient`, `limit`/`offset`, `hasMore`, `links`), record
PATCH by internal ID and upsert by external ID (`PUT …/customer/eid:<id>`), and NetSuite's error bodies
(`o:errorDetails` with `o:errorCode`)."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from typing import Any

from ..http import jwt
from . import demo
from .server import Reply, Request, Sandbox

SUITEQL = "/services/rest/query/v1/suiteql"
RECORD = "/services/rest/record/v1"
TOKEN = "/services/rest/auth/oauth2/v1/token"
TOKEN_LIFETIME = 3600
TABLES = ("customer", "item")
TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}
CODES = {401: "INVALID_LOGIN", 404: "NONEXISTENT_ID", 429: "CONCURRENCY_LIMIT_EXCEEDED"}
_TIMESTAMP = r"TO_TIMESTAMP\('([^']+)', 'YYYY-MM-DD HH24:MI:SS'\)"
_QUERY = re.compile(
    r"^SELECT (?P<columns>.+?) FROM (?P<table>\w+)"
    rf"(?: WHERE lastmodifieddate > {_TIMESTAMP} OR \(lastmodifieddate = {_TIMESTAMP} AND id > (\d+)\))?"
    r" ORDER BY lastmodifieddate, id$"
)
_COLUMN = re.compile(r"TO_CHAR\((\w+), '([^']*)'\) AS (\w+)|(\w+)")


@functools.cache
def _key_pair() -> tuple[str, str]:
    """One RSA key pair per process: the integration's certificate (generating one costs ~100 ms)."""
    return jwt.new_key_pair()


def _to_char(value: dt.datetime, pattern: str) -> str:
    formats = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH24": "%H", "MI": "%M", "SS": "%S", '"T"': "T"}
    for oracle, strf in formats.items():
        pattern = pattern.replace(oracle, strf)
    return value.strftime(pattern)


class NetSuiteSandbox(Sandbox):
    """Stateful NetSuite account stand-in (one subsidiary, times in UTC)."""

    name = "netsuite-sandbox"
    client_id = "ns-sandbox-client"
    certificate_id = "ns-sandbox-cert"

    def __init__(self, *, clock: Any = None, seed: bool = True) -> None:
        super().__init__(clock=clock)
        self.private_key, self.public_key = _key_pair()
        self.records: dict[str, dict[int, dict[str, Any]]] = {table: {} for table in TABLES}
        self.tokens: dict[str, float] = {}  # access token -> expiry (unix seconds)
        self.assertions: list[dict[str, Any]] = []  # accepted JWT headers and payloads
        self.route("POST", TOKEN, self.token)
        self.route("POST", SUITEQL, self.suiteql)
        self.route("GET", f"{RECORD}/(?P<table>customer|item)/(?P<rid>\\d+)", self.get)
        self.route("PATCH", f"{RECORD}/(?P<table>customer|item)/(?P<rid>\\d+)", self.patch)
        self.route("PUT", f"{RECORD}/(?P<table>customer|item)/eid:(?P<eid>[^/]+)", self.upsert)
        if seed:
            demo.seed_netsuite(self)

    # --- errors and state ------------------------------------------------------------------------
    def error_body(self, status: int, detail: str = "", code: str = "") -> Any:
        return {
            "type": f"https://www.rfc-editor.org/rfc/rfc9110.html#status.{status}",
            "title": TITLES.get(status, "Internal Server Error"),
            "status": status,
            "o:errorDetails": [
                {
                    "detail": detail
                    or ("Invalid login attempt." if status == 401 else f"sandbox fault {status}"),
                    "o:errorCode": code or CODES.get(status, "UNEXPECTED_ERROR"),
                }
            ],
        }

    def expire_tokens(self) -> None:
        """Every issued access token stops working (revoked, or the role changed)."""
        with self.lock:
            self.tokens.clear()

    def put(self, table: str, fields: dict[str, Any], *, at: dt.datetime | None = None) -> dict[str, Any]:
        """Insert or change a record (lower-case field names), stamping lastmodifieddate."""
        with self.lock:
            rid = int(fields.get("id") or 1000 + self.next_id())
            record = {**self.records[table].get(rid, {}), **fields, "id": rid}
            record["lastmodifieddate"] = (at or self.clock.now()).astimezone(dt.UTC).replace(microsecond=0)
            self.records[table][rid] = record
            return record

    def _authorised(self, request: Request) -> bool:
        token = request.header("authorization").removeprefix("Bearer ")
        expiry = self.tokens.get(token)
        return expiry is not None and self.clock.now().timestamp() < expiry

    # --- OAuth 2.0 client credentials (M2M) -------------------------------------------------------
    def token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in request.form().items()}
        refused = Reply(400, {"error": "invalid_request"})
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return refused
        try:
            header, claims = jwt.verify(form.get("client_assertion", ""), self.public_key)
        except ValueError:
            return Reply(400, {"error": "invalid_client"})
        now = self.clock.now().timestamp()
        iat, exp = int(claims.get("iat", 0)), int(claims.get("exp", 0))
        valid = (
            header.get("typ") == "JWT"
            and header.get("alg") in jwt.ALGORITHMS
            and header.get("kid") == self.certificate_id
            and claims.get("iss") == self.client_id
            and claims.get("aud") == f"{self.base_url}{TOKEN}"
            and "rest_webservices" in str(claims.get("scope", "")).split(",")
            and iat - 60 <= now < exp
            and exp - iat <= 3600
        )
        if not valid:
            return Reply(400, {"error": "invalid_grant"})
        self.assertions.append({"header": header, "claims": claims})
        access = f"eyJns.{secrets.token_urlsafe(32)}"
        self.tokens[access] = now + TOKEN_LIFETIME
        return Reply(200, {"access_token": access, "expires_in": str(TOKEN_LIFETIME), "token_type": "bearer"})

    # --- SuiteQL --------------------------------------------------------------------------------------
    def suiteql(self, request: Request) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        if request.header("prefer") != "transient":
            return Reply(
                400, self.error_body(400, "The 'Prefer: transient' header is required.", "INVALID_HEADER")
            )
        query = ((request.json() or {}).get("q") or "").strip()
        match = _QUERY.match(query)
        if not match or match.group("table") not in TABLES:
            return Reply(
                400, self.error_body(400, f"Invalid search query: {query[:60]}", "INVALID_PARAMETER")
            )
        rows = sorted(
            self.records[match.group("table")].values(), key=lambda r: (r["lastmodifieddate"], r["id"])
        )
        if match.group(3):
            after = (dt.datetime.fromisoformat(match.group(4)).replace(tzinfo=dt.UTC), int(match.group(5)))
            since = dt.datetime.fromisoformat(match.group(3)).replace(tzinfo=dt.UTC)
            rows = [
                r for r in rows if r["lastmodifieddate"] > since or (r["lastmodifieddate"], r["id"]) > after
            ]
        limit = max(1, min(int(request.arg("limit", "1000") or 1000), 1000))
        offset = int(request.arg("offset", "0") or 0)
        page = rows[offset : offset + limit]
        columns = _COLUMN.findall(match.group("columns"))
        items = [self._row(r, columns) for r in page]
        url = f"{self.base_url}{SUITEQL}"
        links = [{"rel": "self", "href": f"{url}?limit={limit}&offset={offset}"}]
        has_more = offset + limit < len(rows)
        if has_more:
            links.insert(0, {"rel": "next", "href": f"{url}?limit={limit}&offset={offset + limit}"})
        return Reply(
            200,
            {
                "links": links,
                "count": len(items),
                "hasMore": has_more,
                "items": items,
                "offset": offset,
                "totalResults": len(rows),
            },
        )

    @staticmethod
    def _row(record: dict[str, Any], columns: list[tuple[str, str, str, str]]) -> dict[str, Any]:
        """SuiteQL's shape: every value a string, empty columns left out, a `links` list per row."""
        row: dict[str, Any] = {"links": []}
        for source, pattern, alias, plain in columns:
            if source:
                row[alias] = _to_char(record[source], pattern)
                continue
            value = record.get(plain)
            if isinstance(value, dt.datetime):
                value = f"{value.month}/{value.day}/{value.year}"  # the display format: no time
            elif isinstance(value, bool):
                value = "T" if value else "F"
            if value not in (None, ""):
                row[plain] = str(value)
        return row

    # --- records ----------------------------------------------------------------------------------
    @staticmethod
    def _fields(body: dict[str, Any]) -> dict[str, Any]:
        """REST field names (camelCase, references as {"id": …}) onto SuiteQL's lower-case columns."""
        fields = {}
        for key, value in body.items():
            if isinstance(value, dict) and "id" in value:
                value = value["id"]
            fields[key.lower()] = value
        return fields

    def get(self, request: Request, table: str, rid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        record = self.records[table].get(int(rid))
        if record is None:
            return Reply(404, self.error_body(404, f"Record {rid} was not found."))
        return Reply(200, {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in record.items()})

    def patch(self, request: Request, table: str, rid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        if int(rid) not in self.records[table]:
            return Reply(404, self.error_body(404, f"Record {rid} was not found."))
        self.put(table, {**self._fields(request.json() or {}), "id": int(rid)})
        return Reply(204, b"")

    def upsert(self, request: Request, table: str, eid: str) -> Reply:
        if not self._authorised(request):
            return Reply(401, self.error_body(401))
        held = next((r for r in self.records[table].values() if r.get("externalid") == eid), None)
        fields = self._fields(request.json() or {})
        fields.pop("id", None)  # upsert takes no internal ID
        record = self.put(table, {**fields, "externalid": eid, "id": held["id"] if held else None})
        return Reply(204, b"", {"Location": f"{self.base_url}{RECORD}/{table}/{record['id']}"})
