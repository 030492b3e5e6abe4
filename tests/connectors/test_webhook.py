"""Generic signed webhooks against a local receiver that checks every signature with `verify_signature`."""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.management import call_command

from connectors import clock as clocks
from connectors.choices import DeliveryStatus
from connectors.connections import connection_create, masked_config
from connectors.delivery import deliver, relay_outbox
from connectors.models import Connection, Delivery
from connectors.sandbox.server import Reply, Request, Sandbox
from connectors.webhook.signing import verify_signature
from mdm.models import GoldenRecord

SECRET = "whsec_hub_test_0123456789abcdef"
CUSTOMER = {"source_id": "001W", "name": "Wingtip Toys", "email": "ap@wingtip.example"}


class Receiver(Sandbox):
    """A subscriber: verifies the signature, accepts each X-MDM-Event-Id once, answers 2xx to repeats."""

    name = "receiver"

    def __init__(self, *, clock: clocks.Clock, secret: str) -> None:
        super().__init__(clock=clock)
        self.secret = secret
        self.accepted: dict[str, dict[str, Any]] = {}
        self.rejected: list[Request] = []
        self.route("POST", "/hooks", self.receive)

    def verifies(self, request: Request, body: bytes | None = None, secret: str | None = None) -> bool:
        return verify_signature(
            secret or self.secret,
            request.header("X-MDM-Timestamp"),
            request.body if body is None else body,
            request.header("X-MDM-Signature"),
            tolerance=300,
            now=self.clock.now().timestamp(),
        )

    def receive(self, request: Request) -> Reply:
        if not self.verifies(request):
            self.rejected.append(request)
            return Reply(400, {"error": "bad signature"})
        event_id = request.header("X-MDM-Event-Id")
        if event_id in self.accepted:
            return Reply(200, {"duplicate": True})
        self.accepted[event_id] = request.json()
        return Reply(202, {"duplicate": False})

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks"


@pytest.fixture
def receiver(fake_clock: clocks.FakeClock) -> Iterator[Receiver]:
    with Receiver(clock=fake_clock, secret=SECRET) as server:
        yield server


def subscribe(receiver: Receiver, *, domains: list[str] | None = None, **config: Any) -> Connection:
    return connection_create(
        name="hook",
        connector="webhook",
        system="hooks",
        config={"url": receiver.url, "signing_secret": SECRET, **config},
        push_domains=domains or ["customer"],
    )


def hub_headers(request: Request) -> dict[str, str]:
    """The hub's own headers of a received request, to send it again as someone else would."""
    return {k: v for k, v in request.headers.items() if k.startswith("x-mdm-") or k == "content-type"}


def one_delivery(connection: Connection, ingest: Any, crm: Any) -> Delivery:
    """A new golden customer, relayed: its one delivery to `connection`."""
    ingest(crm, "customer", CUSTOMER)
    relay_outbox()
    return Delivery.objects.get(connection=connection)


def test_secret_is_encrypted_at_rest_and_shown_masked(db: Any, receiver: Receiver) -> None:
    connection = subscribe(receiver)

    assert SECRET not in connection.secrets and "signing_secret" not in connection.config
    assert masked_config(connection)["signing_secret"] == f"••••{SECRET[-4:]}"
    assert masked_config(connection)["url"] == receiver.url


def test_event_arrives_signed_and_verifies(
    receiver: Receiver, ingest: Any, crm: Any, fake_clock: clocks.FakeClock
) -> None:
    connection = subscribe(receiver)
    delivery = one_delivery(connection, ingest, crm)

    done = deliver(delivery.pk, now=fake_clock.now())

    assert done.status == DeliveryStatus.SUCCEEDED, done.last_error
    assert not receiver.rejected and len(receiver.log) == 1
    request = receiver.log[0]
    golden = GoldenRecord.objects.get(source_records__source_id=CUSTOMER["source_id"])
    key = f"{golden.pk}:{golden.version}:created"
    assert request.header("X-MDM-Event-Id") == key == delivery.idempotency_key
    assert request.header("X-MDM-Timestamp") == str(int(fake_clock.now().timestamp()))
    documented = hmac.new(
        SECRET.encode(), f"{request.header('X-MDM-Timestamp')}.".encode() + request.body, "sha256"
    )
    assert request.header("X-MDM-Signature") == f"v1={documented.hexdigest()}"
    assert receiver.verifies(request)
    assert not receiver.verifies(request, secret="whsec_someone_else")
    body = receiver.accepted[key]
    assert body == json.loads(request.body)
    assert (body["kind"], body["golden_id"], body["domain"], body["version"]) == (
        "created",
        str(golden.pk),
        "customer",
        golden.version,
    )
    assert body["idempotency_key"] == key
    assert body["payload"]["attributes"]["email"] == [CUSTOMER["email"]]
    assert body["record"]["name"] == "Wingtip Toys" and body["record"]["status"] == golden.status


def test_tampered_stale_or_unsigned_requests_fail_verification(
    receiver: Receiver, ingest: Any, crm: Any, fake_clock: clocks.FakeClock
) -> None:
    connection = subscribe(receiver)
    deliver(one_delivery(connection, ingest, crm).pk, now=fake_clock.now())
    signed = receiver.log[0]
    tampered = signed.body.replace(b"Wingtip", b"Evilcorp")
    assert tampered != signed.body

    assert receiver.verifies(signed)
    assert not receiver.verifies(signed, body=tampered)
    stamp = signed.header("X-MDM-Timestamp")
    restamped = {**hub_headers(signed), "x-mdm-timestamp": str(int(stamp) + 1)}
    assert httpx.post(receiver.url, content=signed.body, headers=restamped).status_code == 400
    forged = httpx.post(receiver.url, content=tampered, headers=hub_headers(signed))
    assert forged.status_code == 400
    assert "Evilcorp" not in json.dumps(receiver.accepted)
    unsigned = {k: v for k, v in hub_headers(signed).items() if k != "x-mdm-signature"}
    assert httpx.post(receiver.url, content=signed.body, headers=unsigned).status_code == 400
    fake_clock.advance(minutes=10)  # the same signed request, captured and sent again later
    assert not receiver.verifies(signed)
    assert httpx.post(receiver.url, content=signed.body, headers=hub_headers(signed)).status_code == 400
    assert len(receiver.rejected) == 4 and list(receiver.accepted) == [signed.header("X-MDM-Event-Id")]


@pytest.mark.parametrize("status", [500, 404])
def test_failed_answer_is_retried_and_accepted_once(
    status: int, receiver: Receiver, ingest: Any, crm: Any, fake_clock: clocks.FakeClock
) -> None:
    connection = subscribe(receiver)
    delivery = one_delivery(connection, ingest, crm)
    # The receiver stores the event but its answer fails: the retry must not make a second event.
    receiver.fail("^/hooks$", status=status, after=True)

    first = deliver(delivery.pk, now=fake_clock.now())
    assert first.status == DeliveryStatus.RETRYING, first.last_error
    assert first.next_attempt_at > fake_clock.now()
    early = deliver(delivery.pk, now=fake_clock.now())  # not due yet: no request
    assert early.attempts == 1 and len(receiver.log) == 1
    second = deliver(delivery.pk, now=first.next_attempt_at)

    assert second.status == DeliveryStatus.SUCCEEDED, second.last_error
    assert [a.status_code for a in second.attempt_rows.all()] == [status, None]
    assert len(receiver.log) == 2 and not receiver.rejected
    assert {r.header("X-MDM-Event-Id") for r in receiver.log} == {delivery.idempotency_key}
    assert list(receiver.accepted) == [delivery.idempotency_key]


@pytest.mark.parametrize("via", ["command", "api"])
def test_dead_letter_then_replay_succeeds(
    via: str,
    receiver: Receiver,
    ingest: Any,
    crm: Any,
    fake_clock: clocks.FakeClock,
    admin_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    connection = subscribe(receiver)
    delivery = one_delivery(connection, ingest, crm)
    receiver.fail("^/hooks$", status=503, times=99)
    now = fake_clock.now()
    for _ in range(3):  # CONNECTORS_DELIVERY_MAX_ATTEMPTS in these tests
        state = deliver(delivery.pk, now=now)
        now = (state.next_attempt_at or now) + dt.timedelta(seconds=1)

    assert state.status == DeliveryStatus.DEAD and "503" in state.last_error
    assert len(receiver.log) == 3 and not receiver.accepted
    receiver.faults.clear()  # the subscriber recovers

    with django_capture_on_commit_callbacks(execute=True):
        if via == "command":
            call_command("replay_deliveries", "--connection", connection.name)
        else:
            replay = admin_client.post(
                "/api/v1/connectors/deliveries/replay/",
                {"ids": [delivery.pk]},
                content_type="application/json",
            )
            assert replay.status_code == 202

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED, delivery.last_error
    assert delivery.attempt_rows.count() == 4
    assert list(receiver.accepted) == [delivery.idempotency_key] and not receiver.rejected


def test_only_subscribed_domains_and_kinds_are_sent(
    receiver: Receiver, ingest: Any, crm: Any, fake_clock: clocks.FakeClock
) -> None:
    products = subscribe(receiver, domains=["product"])
    ingest(crm, "customer", CUSTOMER)
    relay_outbox()
    assert not Delivery.objects.filter(connection=products).exists()

    products.push_domains = ["customer"]
    products.config["event_kinds"] = "merged, retired"
    products.save()
    ingest(crm, "customer", {**CUSTOMER, "source_id": "001X", "name": "Tailspin Toys"})
    relay_outbox()
    delivery = Delivery.objects.get(connection=products)
    done = deliver(delivery.pk, now=fake_clock.now())

    assert done.status == DeliveryStatus.SUCCEEDED and done.external_ids == {}
    assert receiver.log == []
