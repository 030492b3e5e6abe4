"""The Zendesk connector against its stand-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.choices import DeliveryStatus, RunStatus
from connectors.delivery import deliver, relay_outbox
from connectors.models import Delivery, WebhookEvent
from mdm.ingest import ingest_records
from mdm.models import SourceRecord

from .conftest import pull, pull_and_deliver


def test_full_pull_reads_organizations_and_users(zd_conn: Any, zd_sandbox: Any) -> None:
    run = pull(zd_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert run.created == 6
    assert SourceRecord.objects.get(source_id="u9100001").attributes["party_type"] == "individual"
    assert SourceRecord.objects.get(source_id="3600002").attributes["website"] == "contoso.de"


def test_export_rate_limit_honours_retry_after(zd_conn: Any, zd_sandbox: Any, fake_clock: Any) -> None:
    zd_sandbox.export_limit = 2

    run = pull(zd_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    exports = [r.at for r in zd_sandbox.requests_to("/api/v2/incremental/")]
    assert zd_sandbox.throttled
    for when, wait in zd_sandbox.throttled:
        following = [at for at in exports if at > when]
        # No request reached the vendor before the Retry-After it was given.
        assert following and min(following) >= when + wait
    assert fake_clock.slept and all(s >= 1 for s in fake_clock.slept)


def test_webhook_signature_accepted_forged_and_replayed_rejected(
    client: Any, zd_conn: Any, zd_sandbox: Any, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = "/api/v1/connectors/webhooks/zendesk/"
    zd_sandbox.put_org({"id": 3600009, "name": "Wingtip Toys", "domain_names": ["wingtip.example"]})
    headers, body = zd_sandbox.signed_webhook(zd_sandbox.org_event(3600009))

    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(url, body, content_type="application/json", headers=headers)
        dup = client.post(url, body, content_type="application/json", headers=headers)

    assert ok.status_code == 200 and dup.json()["duplicate"] is True
    assert WebhookEvent.objects.get(connection=zd_conn).status == "processed"
    assert SourceRecord.objects.get(source_id="3600009").attributes["name"] == "Wingtip Toys"
    forged, _ = zd_sandbox.signed_webhook(zd_sandbox.org_event(3600009), secret="not-the-secret")
    assert client.post(url, body, content_type="application/json", headers=forged).status_code == 400
    fake_clock.advance(minutes=6)
    assert client.post(url, body, content_type="application/json", headers=headers).status_code == 400


def test_writeback_carries_golden_id_and_comes_back_unchanged(
    zd_conn: Any, zd_sandbox: Any, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pull_and_deliver(zd_conn, "customer", django_capture_on_commit_callbacks)
    contoso = zd_sandbox.orgs[3600002]
    assert contoso["external_id"] == str(SourceRecord.objects.get(source_id="3600002").golden_id)
    assert contoso["organization_fields"]["mdm_support_eligibility"] == "not_entitled"
    fake_clock.advance(minutes=5)

    echo = pull(zd_conn, "customer")

    assert echo.status == RunStatus.SUCCEEDED, echo.errors
    assert echo.read >= 4 and echo.unchanged == echo.read and echo.updated == 0


def test_entitlement_changes_push_the_hubs_eligibility_to_the_organization(
    zd_conn: Any, zd_sandbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pull_and_deliver(zd_conn, "customer", django_capture_on_commit_callbacks)
    today = dt.date.today()
    entitlement = {
        "source_id": "ent-2",
        "customer_source_id": "3600002",
        "product_code": "plan_support_premium",
        "sla_level": "premium",
        "start_date": (today - dt.timedelta(days=30)).isoformat(),
        "end_date": (today + dt.timedelta(days=300)).isoformat(),
        "updated_at": "2026-01-01T00:00:00Z",
    }

    def change(**fields: Any) -> dict[str, Any]:
        with django_capture_on_commit_callbacks(execute=True):
            ingest_records(
                system=zd_conn.system,
                domain="entitlement",
                received_via="test",
                payloads=[{**entitlement, **fields}],
            )
        for pk in relay_outbox():
            assert deliver(pk).status == DeliveryStatus.SUCCEEDED
        return zd_sandbox.orgs[3600002]["organization_fields"]

    shown = change()
    assert (shown["mdm_support_eligibility"], shown["mdm_sla_level"]) == ("active", "premium")
    assert shown["mdm_support_eligible"] is True

    ended = (today - dt.timedelta(days=1)).isoformat()
    shown = change(end_date=ended, updated_at="2026-01-02T00:00:00Z")

    assert shown["mdm_support_eligibility"] == "expired" and shown["mdm_support_eligible"] is False
    assert shown["mdm_support_reason"] == f"ended on {ended}"
    kinds = set(Delivery.objects.filter(connection=zd_conn).values_list("event__kind", flat=True))
    assert "eligibility_changed" in kinds
