"""The Salesforce connector: SOQL on SystemModstamp with nextRecordsUrl paging, OAuth 2.0 client
credentials, and write-back by Id or upsert by the external ID field."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from ..base import ConfigField, Connector, Golden, Page, create_missing
from ..http import ApiClient, OAuthClientCredentials
from ..http.paging import by_next_url
from . import mapping

API = "/services/data/v60.0"
log = logging.getLogger(__name__)
# Per stream: the SELECT list and the mapper (None from a mapper: the row is no record of the hub's).
STREAMS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any] | None]]] = {
    "Account": (mapping.ACCOUNT_FIELDS, mapping.account),
    "Contact": (mapping.CONTACT_FIELDS, mapping.contact),
    "Product2": (mapping.PRODUCT_FIELDS, mapping.product),
    "Contract": (mapping.CONTRACT_FIELDS, mapping.contract),
    "Entitlement": (mapping.ENTITLEMENT_FIELDS, mapping.entitlement),
}


def throttled(response: httpx.Response) -> bool:
    """Salesforce answers an exhausted API allowance with 403 REQUEST_LIMIT_EXCEEDED, not 429."""
    if response.status_code == 429:
        return True
    return response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text


class SalesforceConnector(Connector):
    """Salesforce REST API (OAuth 2.0 client credentials flow)."""

    key = "salesforce"
    label = "Salesforce"
    system_kind = "crm"
    config_fields = (
        ConfigField("login_url", "My Domain URL", kind="url"),
        ConfigField("client_id", "Connected app consumer key"),
        ConfigField("client_secret", "Connected app consumer secret", secret=True),
        create_missing("accounts"),
    )
    # Accounts before Contacts; contracts and entitlements point at accounts (ingest holds back a record
    # whose customer is not held yet and replays it once it arrives).
    streams = {
        "customer": ("Account", "Contact"),
        "product": ("Product2",),
        "contract": ("Contract",),
        "entitlement": ("Entitlement",),
    }
    push_domains = ("customer",)

    def make_client(self) -> ApiClient:
        self.auth = OAuthClientCredentials(
            token_url=f"{self.config['login_url']}/services/oauth2/token",
            client_id=self.config["client_id"],
            client_secret=self.config["client_secret"],
            clock=self.clock,
        )
        return ApiClient(
            base_url=self.config["login_url"],
            auth=self.auth,
            clock=self.clock,
            correlation_id=self.correlation_id,
            max_attempts=self.max_attempts,
            throttled=throttled,
            # Salesforce echoes this into its event logs, so a run can be followed on both sides.
            headers={"Sforce-Call-Options": "client=mdm-hub"},
        )

    def pull(
        self, domain: str, stream: str, position: dict[str, Any], *, overlap: dt.timedelta
    ) -> Iterator[Page]:
        """Rows ordered by (SystemModstamp, Id); the position is the last stamp stored.

        The query locator in nextRecordsUrl expires, so it is never the stored position: a resumed run
        queries again from the stamp (less the overlap) and re-reads at most one page.
        """
        fields, mapper = STREAMS[stream]
        soql = f"SELECT {fields} FROM {stream}"
        if position.get("since"):
            since = dt.datetime.fromisoformat(position["since"].replace("+0000", "+00:00")) - overlap
            soql += f" WHERE SystemModstamp >= {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        soql += " ORDER BY SystemModstamp, Id"
        last = position.get("since")
        for rows, _ in by_next_url(
            self.client, f"{API}/query", params={"q": soql}, items="records", next_url="nextRecordsUrl"
        ):
            if rows:
                last = rows[-1]["SystemModstamp"]
            records = [record for record in map(mapper, rows) if record is not None]
            if len(records) < len(rows):
                log.info(
                    "salesforce %s: %d of %d rows skipped (contacts of an account are not customers)",
                    stream,
                    len(rows) - len(records),
                    len(rows),
                )
            # `read` counts every row, so a run's read less its created, updated, unchanged, stale and
            # quarantined is the number skipped.
            yield Page(records, {"since": last} if last else {}, read=len(rows))

    def push(self, golden: Golden) -> dict[str, list[str]]:
        if golden.domain != "customer" or golden.extra.get("status") == "retired":
            return {}
        body = mapping.account_writeback(golden.golden_id, golden.attributes)
        written = []
        for account_id in golden.source_ids:
            self.client.request("PATCH", f"{API}/sobjects/Account/{account_id}", json=body)
            written.append(account_id)
        if not written and self.config.get("create_missing"):
            # Upsert by the external ID field: a retried request finds the account the first one made.
            create = {**body, "Name": golden.extra.get("name") or golden.golden_id}
            answer = self.client.request(
                "PATCH", f"{API}/sobjects/Account/{mapping.GOLDEN_FIELD}/{golden.golden_id}", json=create
            ).json()
            written.append(answer["id"])
        return {"Account": written} if written else {}


CONNECTOR = SalesforceConnector
