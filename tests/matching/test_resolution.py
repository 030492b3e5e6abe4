"""The Django side of resolution: batch runs reconcile golden records, judgements bind, modes agree."""

from __future__ import annotations

import pytest

from matching import services
from matching.models import Judgement, MatchRun, ReviewTask, Verdict
from mdm import golden as golden_service
from mdm.choices import GoldenStatus
from mdm.ingest import ingest_records
from mdm.models import GoldenRecord, SourceRecord

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

ACME = {
    "name": "Acme Widgets Inc.",
    "website": "acme-widgets.com",
    "country": "US",
    "phone": "+1 212 555 0100",
}


def load(system, source_id, **attributes):
    ingest_records(
        system=system,
        domain="customer",
        payloads=[{"source_id": source_id, **attributes}],
        received_via="t",
        resolve=False,
    )
    return SourceRecord.objects.get(system=system, source_id=source_id)


def batch() -> MatchRun:
    run = services.run_batch(services.start_batch("customer").pk)
    assert run.status == MatchRun.Status.DONE, run.error
    return run


def test_batch_merges_duplicates_keeping_one_golden_id_and_retiring_the_other(crm, erp):
    a = load(crm, "A", **ACME)
    b = load(erp, "B", **{**ACME, "name": "ACME WIDGETS INCORPORATED"})
    first = golden_service.create_golden("customer", [a], reason="t")
    second = golden_service.create_golden("customer", [b], reason="t")
    batch()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.golden_id == b.golden_id
    survivor, retired = sorted([first, second], key=lambda g: str(g.pk))
    assert a.golden_id == survivor.pk, "the lower golden ID survives a tie, so re-runs decide the same"
    retired.refresh_from_db()
    assert retired.status == GoldenStatus.RETIRED and retired.merged_into_id == survivor.pk
    again = batch()
    assert again.stats["clusters"] == 1
    assert GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE).count() == 1


def test_not_a_match_judgement_binds_the_batch_run(crm, erp):
    a = load(crm, "A", **ACME)
    b = load(erp, "B", **ACME)
    left, right = sorted([a.pk, b.pk])
    Judgement.objects.create(domain="customer", left_id=left, right_id=right, verdict=Verdict.NO_MATCH)
    batch()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.golden_id and b.golden_id and a.golden_id != b.golden_id


def test_match_judgement_binds_even_when_the_engine_disagrees(crm, erp):
    a = load(crm, "A", **ACME)
    b = load(erp, "B", name="Globex Corporation", country="DE", website="globex.de")
    left, right = sorted([a.pk, b.pk])
    Judgement.objects.create(domain="customer", left_id=left, right_id=right, verdict=Verdict.MATCH)
    batch()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.golden_id == b.golden_id


def test_batch_splits_a_record_that_does_not_belong(crm, erp):
    a = load(crm, "A", **ACME)
    b = load(erp, "B", name="Globex Corporation", country="DE", website="globex.de", tax_id="DE136695976")
    together = golden_service.create_golden("customer", [a, b], reason="a wrong merge from elsewhere")
    batch()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.golden_id != b.golden_id
    assert together.pk in (a.golden_id, b.golden_id), "one side keeps the golden ID"


def test_incremental_and_batch_agree_on_a_small_set(crm, erp, billing, on_commit):
    people = [
        (crm, "A1", ACME),
        (erp, "A2", {**ACME, "name": "ACME WIDGETS INCORPORATED", "tax_id": "12-3456789"}),
        (
            billing,
            "A3",
            {"name": "Acme Widgets", "email": "billing@acme-widgets.com", "tax_id": "12-3456789"},
        ),
        (crm, "G1", {"name": "Globex Corporation", "country": "DE", "website": "globex.de"}),
        (erp, "G2", {"name": "Globex Corp.", "country": "Germany", "website": "https://www.globex.de"}),
        (crm, "I1", {"name": "Initech LLC", "country": "US", "website": "initech.com"}),
    ]
    for system, source_id, attributes in people:
        with on_commit():
            payload = {"source_id": source_id, **attributes}
            ingest_records(system=system, domain="customer", payloads=[payload], received_via="t")
    incremental = dict(SourceRecord.objects.values_list("source_id", "golden_id"))
    batch()
    batched = dict(SourceRecord.objects.values_list("source_id", "golden_id"))
    names = {s: GoldenRecord.objects.get(pk=g).name for s, g in incremental.items()}
    assert incremental == batched, f"a batch re-run keeps what the incremental mode decided {names}"
    assert incremental["A1"] == incremental["A2"] == incremental["A3"]
    assert incremental["G1"] == incremental["G2"] != incremental["A1"]
    assert incremental["I1"] not in (incremental["A1"], incremental["G1"])


def test_incremental_mode_refits_the_model_as_the_domain_grows(crm, on_commit):
    def add(start: int, stop: int, *, resolve: bool) -> None:
        payloads = [
            {"source_id": f"F{i}", "name": f"Filler {i} Trading", "country": "US"} for i in range(start, stop)
        ]
        with on_commit():
            ingest_records(
                system=crm, domain="customer", payloads=payloads, received_via="t", resolve=resolve
            )

    def fitted_records() -> int:
        model = services.match_config("customer").model
        return model["fitted_records"] if model else 0

    add(0, services.MIN_RECORDS_TO_FIT - 1, resolve=False)
    add(services.MIN_RECORDS_TO_FIT - 1, services.MIN_RECORDS_TO_FIT, resolve=True)
    assert fitted_records() == services.MIN_RECORDS_TO_FIT
    grown = int(services.REFIT_GROWTH * services.MIN_RECORDS_TO_FIT)
    add(services.MIN_RECORDS_TO_FIT, grown - 2, resolve=False)
    add(grown - 2, grown - 1, resolve=True)
    assert fitted_records() == services.MIN_RECORDS_TO_FIT, "not refitted before the domain has grown enough"
    add(grown - 1, grown, resolve=True)
    assert fitted_records() == grown
    batch()
    assert fitted_records() == grown, "a batch run over an unchanged domain keeps the model"


def test_incremental_reviews_follow_the_question_the_clustering_asks_now(crm, billing, on_commit):
    """A review opened for a pair is superseded when a later record changes the question: the new
    record joins one side, and the best pair across the two clusters is now another one."""
    city = {"city": "New York", "country": "US"}
    people = [
        (crm, "A", {"name": "Acme Widgets Inc.", "phone": "+1 212 555 0100", "address_line1": "1 Main Street",
                    "postal_code": "10001", **city}),
        (billing, "B", {"name": "Acme Widgets", **city}),
        (crm, "C", {"name": "Acme Widgets", "phone": "+1 212 555 0100", "website": "acme.com", **city}),
    ]  # fmt: skip
    for system, source_id, attributes in people:
        with on_commit():
            payload = {"source_id": source_id, **attributes}
            ingest_records(system=system, domain="customer", payloads=[payload], received_via="t")
    open_reviews = ReviewTask.objects.filter(status=ReviewTask.Status.OPEN)
    assert open_reviews.count() == 1
    assert ReviewTask.objects.filter(status=ReviewTask.Status.SUPERSEDED).count() == 1
    task = open_reviews.get()
    assert {task.left.source_id, task.right.source_id} == {"B", "C"}
