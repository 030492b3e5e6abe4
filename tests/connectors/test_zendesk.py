"""The Zendesk connector against its stand-in."""

from __future__ import annotations

from typing import Any

from connectors.choices import RunStatus
from connectors.models import WebhookEvent
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
