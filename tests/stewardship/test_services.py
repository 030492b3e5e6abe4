"""Steward actions: merge, not-a-match, split, move, pin, bulk accept, replay — each judged and audited."""

from __future__ import annotations

import pytest

from matching.models import Judgement, ReviewTask
from mdm.choices import GoldenStatus
from mdm.golden import current
from mdm.models import AuditEntry, GoldenRecord, OutboxEvent, QuarantinedRecord, SourceRecord
from stewardship import services
from stewardship.services import StewardError

from .conftest import open_review

pytestmark = pytest.mark.django_db


def test_merge_keeps_the_chosen_golden_id_and_remembers_the_match(review_data, personas):
    task = review_data["northwind"]
    keep = review_data["nw_erp"].golden_id
    gone = review_data["nw_crm"].golden_id
    survivor = services.task_merge(
        task_id=task.pk, user=personas["steward"], survivor_id=keep, reason="same tax ID"
    )
    assert survivor.pk == keep
    assert current(gone).pk == keep, "the retired ID answers with the survivor"
    assert GoldenRecord.objects.get(pk=gone).status == GoldenStatus.RETIRED
    assert set(survivor.source_records.values_list("source_id", flat=True)) == {"001A", "C-100"}
    judgement = Judgement.objects.get(left=task.left, right=task.right)
    assert (judgement.verdict, judgement.user) == ("match", personas["steward"])
    task.refresh_from_db()
    assert (task.status, task.decided_by) == (ReviewTask.Status.MERGED, personas["steward"])
    entry = AuditEntry.objects.get(action="merge")
    assert entry.user == personas["steward"] and entry.reason == "same tax ID"
    assert OutboxEvent.objects.filter(golden_id=gone, kind="retired").exists()
    history = GoldenRecord.history.filter(id=keep).first()
    assert history.history_user == personas["steward"] and "steward merge" in history.history_change_reason


def test_a_task_is_decided_once(review_data, personas):
    task = review_data["northwind"]
    services.task_reject(task_id=task.pk, user=personas["steward"])
    with pytest.raises(StewardError) as raised:
        services.task_merge(task_id=task.pk, user=personas["steward"])
    assert raised.value.code == "task_closed"


def test_merge_refuses_a_survivor_outside_the_task(review_data, personas):
    with pytest.raises(StewardError):
        services.task_merge(
            task_id=review_data["northwind"].pk,
            user=personas["steward"],
            survivor_id=review_data["cont_crm"].golden_id,
        )


def test_not_a_match_is_remembered_and_closes_the_task(review_data, personas):
    task = review_data["contoso"]
    services.task_reject(task_id=task.pk, user=personas["steward"], reason="pharma is another company")
    task.refresh_from_db()
    assert task.status == ReviewTask.Status.REJECTED
    assert Judgement.objects.get(left=task.left, right=task.right).verdict == "no_match"
    assert (
        review_data["cont_crm"].golden_id != SourceRecord.objects.get(pk=review_data["cont_erp"].pk).golden_id
    )
    assert AuditEntry.objects.filter(action="not_a_match", reason="pharma is another company").exists()


def test_split_needs_a_comment_gives_a_new_id_and_judges_the_records_left(review_data, personas):
    steward = personas["steward"]
    survivor = services.task_merge(task_id=review_data["northwind"].pk, user=steward)
    record = review_data["nw_erp"]
    with pytest.raises(StewardError) as raised:
        services.record_split(record_id=record.pk, user=steward, reason=" ")
    assert raised.value.code == "reason_required"
    new = services.record_split(record_id=record.pk, user=steward, reason="ERP entity is the US subsidiary")
    assert new.pk != survivor.pk
    assert list(new.source_records.values_list("pk", flat=True)) == [record.pk]
    survivor.refresh_from_db()
    assert list(survivor.source_records.values_list("pk", flat=True)) == [review_data["nw_crm"].pk]
    left, right = sorted((record.pk, review_data["nw_crm"].pk))
    assert Judgement.objects.get(left_id=left, right_id=right).verdict == "no_match"
    assert AuditEntry.objects.filter(action="split", reason="ERP entity is the US subsidiary").exists()


def test_split_of_a_lone_record_is_refused(review_data, personas):
    with pytest.raises(StewardError) as raised:
        services.record_split(record_id=review_data["person"].pk, user=personas["steward"], reason="x")
    assert raised.value.code == "alone"


def test_move_joins_the_target_and_retires_an_emptied_golden(review_data, personas):
    record = review_data["cont_erp"]
    old = record.golden_id
    target = review_data["cont_crm"].golden_id
    moved = services.record_move(
        record_id=record.pk, target_id=target, user=personas["steward"], reason="same firm"
    )
    assert moved.pk == target
    assert SourceRecord.objects.get(pk=record.pk).golden_id == target
    assert current(old).pk == target
    left, right = sorted((record.pk, review_data["cont_crm"].pk))
    assert Judgement.objects.get(left_id=left, right_id=right).verdict == "match"


def test_pin_wins_survivorship_until_unpinned(review_data, personas):
    golden = GoldenRecord.objects.get(pk=review_data["nw_crm"].golden_id)
    assert golden.attributes["name"] == "Northwind Traders"
    services.golden_pin(
        golden_id=golden.pk,
        attribute="name",
        value="Northwind Traders Ltd",
        user=personas["steward"],
        reason="CEO",
    )
    golden.refresh_from_db()
    assert golden.attributes["name"] == "Northwind Traders Ltd"
    assert golden.lineage["name"] == {"rule": "pin"}
    assert golden.pins == {"name": "Northwind Traders Ltd"}
    services.golden_unpin(golden_id=golden.pk, attribute="name", user=personas["steward"])
    golden.refresh_from_db()
    assert golden.attributes["name"] == "Northwind Traders" and golden.pins == {}
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["unpin", "pin"]


def test_pin_checks_attribute_and_value(review_data, personas):
    golden_id = review_data["nw_crm"].golden_id
    with pytest.raises(StewardError):
        services.golden_pin(
            golden_id=golden_id, attribute="nonsense", value="x", user=personas["steward"], reason="r"
        )
    with pytest.raises(StewardError):
        services.golden_pin(
            golden_id=golden_id,
            attribute="credit_hold",
            value="perhaps",
            user=personas["steward"],
            reason="r",
        )


def test_bulk_accept_takes_only_the_clearest_tasks(review_data, personas):
    clear = open_review(review_data["person"], review_data["cont_erp"], probability=0.99, score=9.0)
    merged = services.tasks_bulk_accept(user=personas["steward"], reason="clear", min_probability=0.5)
    assert merged == [clear.pk], "the bar never drops below the bulk minimum"
    assert ReviewTask.objects.filter(status="open").count() == 2


def test_replay_of_a_fixed_quarantined_record(systems, personas):
    from mdm.ingest import ingest_records

    report = ingest_records(
        system=systems["crm"],
        domain="customer",
        payloads=[{"source_id": "bad", "name": "X", "birth_date": "no"}],
        received_via="test",
        resolve=False,
    )
    q = QuarantinedRecord.objects.get(pk=report.outcomes[0].quarantine_id)
    outcome = services.quarantine_replay(
        quarantine_id=q.pk, user=personas["steward"], payload={"source_id": "bad", "name": "X"}
    )
    assert outcome.outcome == "created"
    q.refresh_from_db()
    assert q.status == "replayed"
    with pytest.raises(StewardError):
        services.quarantine_replay(quarantine_id=q.pk, user=personas["steward"])


def test_a_dead_delivery_is_replayed_and_audited(review_data, personas, systems):
    from connectors.models import Connection, Delivery

    connection = Connection.objects.create(name="billing-out", system=systems["billing"], connector="stripe")
    event = OutboxEvent.objects.filter(golden_id=review_data["nw_crm"].golden_id).first()
    delivery = Delivery.objects.create(
        connection=connection,
        event=event,
        idempotency_key=event.idempotency_key,
        status="dead",
        attempts=8,
        last_error="HTTP 500",
    )
    assert services.delivery_replay(delivery_id=delivery.pk, user=personas["steward"]) == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert AuditEntry.objects.filter(action="delivery_replay", user=personas["steward"]).exists()
    with pytest.raises(StewardError):
        services.delivery_replay(delivery_id=delivery.pk, user=personas["steward"])
