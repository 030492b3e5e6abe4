"""The Stripe connector against its stand-in: pulls, paging, throttling, resume, webhooks, pushes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from connectors.choices import DeliveryStatus, RunStatus
from connectors.delivery import deliver, relay_outbox
from connectors.models import Delivery, SyncCursor, WebhookEvent
from connectors.sandbox.stripe import StripeSandbox
from mdm.models import SourceRecord

from .conftest import new_customer_delivery, pull, pull_and_deliver


def test_full_pull_maps_customers_and_tags_every_request(
    stripe_conn: Any, stripe_sandbox: StripeSandbox
) -> None:
    run = pull(stripe_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.read, run.created, run.updated) == (4, 4, 0)
    northwind = SourceRecord.objects.get(source_id="cus_N0rthw1nd")
    assert northwind.attributes["tax_id"] == "91-1234567"
    assert northwind.attributes["city"] == "Seattle"
    assert {r.header("x-correlation-id") for r in stripe_sandbox.log} == {run.correlation_id}
    cursor = SyncCursor.objects.get(connection=stripe_conn, domain="customer")
    assert cursor.position["mode"] == "events"


def test_listing_follows_starting_after_pages(stripe_conn: Any, stripe_sandbox: StripeSandbox) -> None:
    stripe_conn.config["page_size"] = 3
    stripe_conn.save()

    run = pull(stripe_conn, "customer")

    assert run.pages == 2 and run.read == 4
    lists = stripe_sandbox.requests_to("^/v1/customers$")
    assert [r.arg("starting_after") for r in lists] == [None, lists[0] and _third_id(stripe_sandbox)]


def _third_id(sandbox: StripeSandbox) -> str:
    return list(reversed(sandbox.order["customers"]))[2]


def test_incremental_pull_reads_only_changes_through_events(
    stripe_conn: Any, stripe_sandbox: StripeSandbox, fake_clock: Any
) -> None:
    pull(stripe_conn, "customer")
    fake_clock.advance(minutes=30)
    customer = stripe_sandbox.store["customers"]["cus_Fabr1kam"]
    stripe_sandbox.put("customers", {**customer, "phone": "+1 415 555 0199"}, event="customer.updated")
    stripe_sandbox.log.clear()

    run = pull(stripe_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert (run.read, run.updated, run.created) == (1, 1, 0)
    assert not stripe_sandbox.requests_to("^/v1/customers$")  # no full listing
    assert SourceRecord.objects.get(source_id="cus_Fabr1kam").attributes["phone"] == "+1 415 555 0199"


def test_overlap_rereads_are_unchanged(
    stripe_conn: Any, stripe_sandbox: StripeSandbox, fake_clock: Any
) -> None:
    pull(stripe_conn, "customer")
    customer = stripe_sandbox.store["customers"]["cus_Fabr1kam"]
    stripe_sandbox.put("customers", {**customer, "phone": "+1 415 555 0100"}, event="customer.updated")
    first = pull(stripe_conn, "customer")
    fake_clock.advance(seconds=30)  # inside the overlap window: the same event is seen again

    again = pull(stripe_conn, "customer")

    assert first.updated == 1
    assert again.read >= 1 and (again.created, again.updated) == (0, 0)


def test_throttled_request_is_retried_after_backoff(
    stripe_conn: Any, stripe_sandbox: StripeSandbox, fake_clock: Any
) -> None:
    stripe_sandbox.fail("^/v1/customers$", status=429, times=2)

    run = pull(stripe_conn, "customer")

    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert len(fake_clock.slept) == 2 and all(s > 0 for s in fake_clock.slept)
    times = [r.at for r in stripe_sandbox.requests_to("^/v1/customers$")]
    assert times[1] - times[0] >= fake_clock.slept[0] - 0.001


def test_crash_mid_run_resumes_without_loss_or_duplicates(
    stripe_conn: Any, stripe_sandbox: StripeSandbox
) -> None:
    stripe_conn.config["page_size"] = 2
    stripe_conn.save()
    stripe_sandbox.fail("^/v1/customers$", status=503, times=10, skip=1)  # page 2 keeps failing

    crashed = pull(stripe_conn, "customer")

    assert crashed.status == RunStatus.FAILED
    assert crashed.errors and crashed.errors[0]["status"] == 503
    assert SourceRecord.objects.filter(system__code="billing").count() == 2
    stripe_sandbox.faults.clear()

    resumed = pull(stripe_conn, "customer")

    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.created == 2 and resumed.read == 2  # only what was missing
    assert SourceRecord.objects.filter(system__code="billing").count() == 4


def test_webhook_accepted_duplicate_ignored_forged_and_replayed_rejected(
    client: Any,
    stripe_conn: Any,
    stripe_sandbox: StripeSandbox,
    fake_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = "/api/v1/connectors/webhooks/stripe/"
    event = stripe_sandbox.emit("customer.created", stripe_sandbox.store["customers"]["cus_Fabr1kam"])
    headers, body = stripe_sandbox.signed_event(event)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, body, content_type="application/json", headers=headers)
    versions = SourceRecord.objects.get(source_id="cus_Fabr1kam").history.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, body, content_type="application/json", headers=headers)

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    stored = WebhookEvent.objects.get(event_id=event["id"])
    assert stored.status == "processed" and stored.deliveries == 2
    assert stored.result["customer"]["created"] == 1
    assert SourceRecord.objects.get(source_id="cus_Fabr1kam").history.count() == versions

    forged = body.replace(b"Fabrikam", b"Evilcorp")
    assert client.post(url, forged, content_type="application/json", headers=headers).status_code == 400
    wrong_key, _ = stripe_sandbox.signed_event(event, secret="whsec_guess")
    assert client.post(url, body, content_type="application/json", headers=wrong_key).status_code == 400

    fake_clock.advance(minutes=10)
    assert client.post(url, body, content_type="application/json", headers=headers).status_code == 400


def test_push_after_5xx_creates_exactly_one_customer(
    stripe_conn: Any,
    stripe_sandbox: StripeSandbox,
    crm: Any,
    fake_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payload = {"source_id": "001X", "name": "Tailspin Toys", "email": "ap@tailspin.example"}
    golden, delivery = new_customer_delivery(stripe_conn, crm, payload, django_capture_on_commit_callbacks)
    # The first create is applied by Stripe but its answer is lost.
    stripe_sandbox.fail("^/v1/customers$", method="POST", status=500, after=True)

    first = deliver(delivery.pk, now=fake_clock.now())
    assert first.status == DeliveryStatus.RETRYING, first.last_error
    assert first.status == DeliveryStatus.RETRYING and first.next_attempt_at > fake_clock.now()
    second = deliver(delivery.pk, now=first.next_attempt_at)

    assert second.status == DeliveryStatus.SUCCEEDED, second.last_error
    mine = [
        c
        for c in stripe_sandbox.store["customers"].values()
        if c["metadata"].get("mdm_golden_id") == str(golden.pk)
    ]
    assert len(mine) == 1
    assert second.attempt_rows.count() == 2
    assert [a.status_code for a in second.attempt_rows.all()] == [500, None]


def test_writeback_comes_back_unchanged(
    stripe_conn: Any, stripe_sandbox: StripeSandbox, fake_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pull_and_deliver(stripe_conn, "customer", django_capture_on_commit_callbacks)
    golden_id = SourceRecord.objects.get(source_id="cus_N0rthw1nd").golden_id
    assert stripe_sandbox.store["customers"]["cus_N0rthw1nd"]["metadata"]["mdm_golden_id"] == str(golden_id)
    fake_clock.advance(minutes=5)

    echo = pull(stripe_conn, "customer")

    assert echo.read >= 4 and echo.unchanged == echo.read and echo.updated == 0


@pytest.mark.parametrize("via", ["command", "api"])
def test_dead_letter_then_replay_succeeds(
    via: str,
    stripe_conn: Any,
    stripe_sandbox: StripeSandbox,
    fake_clock: Any,
    admin_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pull(stripe_conn, "customer")
    relay_outbox()
    delivery = Delivery.objects.filter(connection=stripe_conn).first()
    stripe_sandbox.fail("^/v1/customers/", method="POST", status=502, times=99)
    now = fake_clock.now()
    for _ in range(3):
        state = deliver(delivery.pk, now=now)
        now = (state.next_attempt_at or now) + dt.timedelta(seconds=1)
    assert state.status == DeliveryStatus.DEAD and "502" in state.last_error
    stripe_sandbox.faults.clear()

    with django_capture_on_commit_callbacks(execute=True):
        if via == "command":
            call_command("replay_deliveries", str(delivery.pk))
        else:
            assert (
                admin_client.post(
                    "/api/v1/connectors/deliveries/replay/",
                    {"ids": [delivery.pk]},
                    content_type="application/json",
                ).status_code
                == 202
            )

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempt_rows.count() == 4
