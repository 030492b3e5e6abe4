"""The NetSuite connector: SuiteQL over SuiteTalk REST for reads (keyset on lastmodifieddate, id, page by
page with `limit` and `hasMore`), OAuth 2.0 machine-to-machine (a JWT assertion signed with the
certificate's private key), PATCH by internal ID and upsert by external ID for writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from ..base import ConfigField, Connector, Golden, Page, create_missing
from ..http import ApiClient, OAuthJwtAssertion
from . import mapping

SUITEQL = "/services/rest/query/v1/suiteql"
RECORD = "/services/rest/record/v1"
TOKEN = "/services/rest/auth/oauth2/v1/token"
STAMP = "%Y-%m-%d %H:%M:%S"
# Per stream: SuiteQL table, columns, mapper.
STREAMS: dict[str, tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "customer": ("customer", mapping.CUSTOMER_COLUMNS, mapping.customer),
    "item": ("item", mapping.ITEM_COLUMNS, mapping.item),
}


class NetSuiteConnector(Connector):
    """NetSuite SuiteTalk REST web services (OAuth 2.0 client credentials, M2M)."""

    key = "netsuite"
    label = "NetSuite"
    system_kind = "erp"
    config_fields = (
        ConfigField("account_url", "https://<accountID>.suitetalk.api.netsuite.com", kind="url"),
        ConfigField("client_id", "Integration record client ID"),
        ConfigField("certificate_id", "Certificate ID of the M2M mapping (the JWT kid)"),
        ConfigField("private_key", "PEM private key of that certificate", secret=True),
        ConfigField("algorithm", "PS256 or RS256", required=False, default="PS256"),
        ConfigField(
            "page_size", "Rows per SuiteQL page (max 1000)", required=False, default=1000, kind="int"
        ),
        create_missing("customers"),
    )
    streams = {"customer": ("customer",), "product": ("item",)}
    push_domains = ("customer",)

    def make_client(self) -> ApiClient:
        self.auth = OAuthJwtAssertion(
            token_url=f"{self.config['account_url']}{TOKEN}",
            client_id=self.config["client_id"],
            key_id=self.config["certificate_id"],
            private_key=self.config["private_key"],
            algorithm=self.config.get("algorithm") or "PS256",
            scope="rest_webservices",
            clock=self.clock,
        )
        return ApiClient(
            base_url=self.config["account_url"],
            auth=self.auth,
            clock=self.clock,
            correlation_id=self.correlation_id,
            max_attempts=self.max_attempts,
        )

    # --- inbound ----------------------------------------------------------------------------------
    def pull(
        self, domain: str, stream: str, position: dict[str, Any], *, overlap: dt.timedelta
    ) -> Iterator[Page]:
        """Rows in (lastmodifieddate, id) order, each page asked for after the last row stored.

        Offsets shift when a record changes mid-read (it moves to the end and the rows behind it move up
        one, so one would be skipped); seeking past the last (stamp, id) never skips. The stored position
        is that pair; a new run starts `overlap` before its stamp.
        """
        table, columns, mapper = STREAMS[stream]
        since, after = position.get("since"), 0
        if since:
            since = (dt.datetime.fromisoformat(since) - overlap).strftime("%Y-%m-%dT%H:%M:%S")
        limit = min(int(self.config.get("page_size") or 1000), 1000)
        while True:
            query = f"SELECT {columns} FROM {table}"
            if since:
                stamp = f"TO_TIMESTAMP('{since.replace('T', ' ')}', 'YYYY-MM-DD HH24:MI:SS')"
                query += f" WHERE lastmodifieddate > {stamp} OR (lastmodifieddate = {stamp} AND id > {after})"
            query += " ORDER BY lastmodifieddate, id"
            body = self.client.request(
                "POST",
                SUITEQL,
                params={"limit": limit, "offset": 0},
                json={"q": query},
                headers={"Prefer": "transient"},
            ).json()
            rows = body.get("items") or []
            if rows:
                since, after = rows[-1]["modified"], int(rows[-1]["id"])
            yield Page([mapper(r) for r in rows], {"since": since, "id": after} if since else {})
            if not body.get("hasMore") or not rows:
                return

    # --- outbound ---------------------------------------------------------------------------------
    def push(self, golden: Golden) -> dict[str, list[str]]:
        if golden.domain != "customer" or golden.extra.get("status") == "retired":
            return {}
        written = []
        for internal_id in golden.source_ids:
            self.client.request(
                "PATCH", f"{RECORD}/customer/{internal_id}", json=mapping.customer_writeback(golden.golden_id)
            )
            written.append(internal_id)
        if not written and self.config.get("create_missing"):
            # Upsert by external ID: a retry after a lost answer updates the customer the first one made.
            answer = self.client.request(
                "PUT",
                f"{RECORD}/customer/eid:{golden.golden_id}",
                json=mapping.customer_create(
                    golden.golden_id, golden.attributes, golden.extra.get("name", "")
                ),
            )
            written.append(urlsplit(answer.headers.get("Location", "")).path.rsplit("/", 1)[-1])
        return {"customer": written} if written else {}


CONNECTOR = NetSuiteConnector
