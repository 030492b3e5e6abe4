"""The Django side of resolution: batch runs reconcile golden records, judgements bind, modes agree."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest

from matching import services
from matching.models import BlockingKey, Judgement, MatchRun, MatchShard, ReviewTask, Verdict
from matching.stored_features import features_of, held_features
from mdm import golden as golden_service
from mdm.choices import GoldenStatus
from mdm.ingest import chunked, ingest_records
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


def test_a_sparse_record_pulled_into_a_neighbourhood_brings_its_rivals(crm, erp, billing, on_commit):
    """Two namesakes share name, domain and country; a ticket naming only those stays apart in both
    modes. A later record of one namesake, clearly not the other, re-clusters the ticket's
    neighbourhood: the rival the ticket was kept apart for must be in it, or the ticket would join
    the namesake that record touches, which a batch run does not do."""
    us = {"website": "bowmanandnelson.com", "country": "US"}
    first = {
        "name": "Bowman and Nelson Corp.",
        "tax_id": "84-1737677",
        "phone": "+1 611 993 2911",
        "address_line1": "89511 Johnson Village",
        "postal_code": "57177",
        **us,
    }
    second = {
        "name": "Bowman & Nelson Corp.",
        "tax_id": "23-6421980",
        "phone": "+1 729 825 3798",
        "address_line1": "233 George Skyway",
        "postal_code": "75970",
        **us,
    }
    people = [
        (erp, "A1", first),
        (crm, "A2", {**first, "tax_id": ""}),
        (erp, "B1", second),
        (billing, "T", {"name": "Bowman and Nelson Corp", **us}),
        (billing, "A3", {**first, "name": "Bowman and Nelson Corporation"}),
    ]  # fmt: skip
    for system, source_id, attributes in people:
        with on_commit():
            payload = {"source_id": source_id, **attributes}
            ingest_records(system=system, domain="customer", payloads=[payload], received_via="t")
    incremental = _grouping()
    assert frozenset({"T"}) in incremental, "the ticket stays apart from both namesakes"
    assert frozenset({"A1", "A2", "A3"}) in incremental
    batch()
    assert _grouping() == incremental


def test_incremental_and_batch_agree_under_one_model_on_a_labelled_sample(on_commit):
    """The labelled set's hard cases (namesakes, subsidiaries, sparse tickets) loaded page by page
    through ingest and incremental resolution, in a hub whose model is the one a batch run over the
    same records fits; a batch run afterwards must keep what the incremental mode decided."""
    import itertools

    from matching.engine import resolve_batch
    from matching.features import features
    from matching.settings import default_settings
    from mdm.models import SourceSystem
    from tests.matching.samples import labelled_sample

    recs, _ = labelled_sample(500)
    fitted = resolve_batch(
        {r: features("customer", a) for r, a in recs.items()}, default_settings("customer")
    )
    services._store_model(services.match_config("customer"), fitted.model)
    systems = {
        code: SourceSystem.objects.create(code=code, name=code, kind=code)
        for code in ("crm", "erp", "billing")
    }
    systems["support"] = SourceSystem.objects.create(code="support", name="support", kind="support")
    rows = [a for _, a in sorted(recs.items())]
    for system, page in itertools.groupby(rows, key=lambda a: a["system"]):
        for chunk in chunked(page, 10):
            payloads = [{k: v for k, v in a.items() if k != "system"} for a in chunk]
            with on_commit():
                ingest_records(system=systems[system], domain="customer", payloads=payloads, received_via="t")
    assert (
        SourceRecord.objects.count() == len(recs)
        and not SourceRecord.objects.filter(golden__isnull=True).exists()
    )

    def pairs() -> set[tuple[str, str]]:
        return {
            (a, b)
            for group in _grouping(with_system=True)
            for a, b in itertools.combinations(sorted(group), 2)
        }

    incremental = pairs()
    run = batch()
    assert run.stats["clusters"] > 150 and services.match_config("customer").model["fitted_records"] == len(
        recs
    )
    batched = pairs()
    agreement = len(incremental & batched) / len(incremental | batched)
    assert agreement >= 0.995, f"{len(incremental ^ batched)} pairs differ"


def _small_estate(crm, erp, billing) -> None:
    load(crm, "A1", **ACME)
    load(erp, "A2", **{**ACME, "name": "ACME WIDGETS INCORPORATED", "tax_id": "12-3456789"})
    load(billing, "A3", name="Acme Widgets", email="billing@acme-widgets.com", tax_id="12-3456789")
    load(crm, "G1", name="Globex Corporation", country="DE", website="globex.de")
    load(erp, "G2", name="Globex Corp.", country="Germany", website="https://www.globex.de")
    load(crm, "I1", name="Initech LLC", country="US", website="initech.com")
    load(erp, "I2", name="Initech", country="US", website="initech.com", tax_id="98-7654321")


def _grouping(*, with_system: bool = False) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for system, source_id, golden_id in SourceRecord.objects.values_list(
        "system__code", "source_id", "golden_id"
    ):
        groups.setdefault(str(golden_id), set()).add(f"{system}:{source_id}" if with_system else source_id)
    return {frozenset(g) for g in groups.values()}


def test_a_batch_split_into_one_pair_shards_decides_as_one_shard(crm, erp, billing, settings):
    _small_estate(crm, erp, billing)
    whole = batch()
    assert whole.stats["shards"] == 1
    one_shard = _grouping()
    assert frozenset({"A1", "A2", "A3"}) in one_shard and frozenset({"G1", "G2"}) in one_shard

    settings.MDM_BATCH_SHARD_PAIRS = 1
    split = batch()
    assert split.stats["shards"] == split.stats["candidate_pairs"] > 1
    assert _grouping() == one_shard
    assert split.stats["edges"] == whole.stats["edges"]
    assert not split.shards.exists(), "a settled run keeps no shards"


def test_a_first_batch_writes_its_new_golden_records_in_chunk_tasks(crm, erp, billing, settings):
    _small_estate(crm, erp, billing)
    settings.MDM_BATCH_GOLDEN_CHUNK = 1
    run = batch()
    assert run.stats["clusters"] == GoldenRecord.objects.count() == 3
    assert {frozenset({"A1", "A2", "A3"}), frozenset({"G1", "G2"})} <= _grouping()
    assert not SourceRecord.objects.filter(golden__isnull=True).exists()
    assert not run.golden_chunks.exists(), "a finished run keeps no chunks"
    keyed = set(BlockingKey.objects.values_list("record_id", flat=True))
    assert keyed == set(SourceRecord.objects.values_list("pk", flat=True)), "alone or not, all have keys"
    steps = run.stats["settling_seconds"]
    assert set(steps) == {"reconcile", "reviews", "chunks", "statistics"}
    assert all(seconds >= 0 for seconds in steps.values()) and "settled_at" not in run.stats


def test_a_batch_rewrites_every_blocking_key_in_chunk_tasks(crm, erp, billing, settings):
    _small_estate(crm, erp, billing)
    batch()
    expected = set(BlockingKey.objects.values_list("record_id", "key", "sort"))
    some = SourceRecord.objects.order_by("pk").first()
    BlockingKey.objects.filter(record=some).delete()
    BlockingKey.objects.create(domain="customer", key="stale:key", record=some, sort="~")
    # a key left by a record that is gone: look-ups skip it, the next batch run removes it
    gone = SourceRecord.objects.order_by("pk").last().pk + 1000
    BlockingKey.objects.create(domain="customer", key="stale:key", record_id=gone, sort="~")
    settings.MDM_BATCH_KEYS_CHUNK = 2
    run = batch()
    assert set(BlockingKey.objects.values_list("record_id", "key", "sort")) == expected
    assert not run.golden_chunks.exists()


def test_a_first_batch_computes_features_in_chunk_tasks_counted_once(crm, erp, billing, settings):
    _small_estate(crm, erp, billing)
    assert not SourceRecord.objects.exclude(features={}).exists(), "loaded without features"
    settings.MDM_BATCH_FEATURE_CHUNK = 2
    run = services.start_batch("customer")
    chunks = services.plan_features(run.pk)
    assert chunks == 4, "seven records in chunks of two"
    assert services.plan_features(run.pk) == chunks, "planning delivered twice enqueues the same chunks"
    assert services.compute_feature_chunk(run.pk, 0) is False
    assert services.compute_feature_chunk(run.pk, 0) is False, "a repeated chunk does not count again"
    assert SourceRecord.objects.exclude(features={}).count() == 2
    assert [services.compute_feature_chunk(run.pk, i) for i in (1, 2, 3)] == [False, False, True]
    assert not SourceRecord.objects.filter(features={}).exists()
    run = services.run_batch(run.pk)
    assert run.status == MatchRun.Status.DONE, run.error
    assert {frozenset({"A1", "A2", "A3"}), frozenset({"G1", "G2"})} <= _grouping()
    assert not run.feature_chunks.exists() and "featured" not in run.stats


def test_a_shard_or_golden_chunk_delivered_twice_is_counted_once(crm, erp, billing, settings):
    _small_estate(crm, erp, billing)
    settings.MDM_BATCH_SHARD_PAIRS = 1
    run = services.start_batch("customer")
    shards = services._prepare_batch(run)
    assert shards > 2
    assert services.score_shard(run.pk, 0) is False
    assert services.score_shard(run.pk, 0) is False, "a repeated shard does not count as another"
    for index in range(1, shards - 1):
        assert services.score_shard(run.pk, index) is False
    assert services.score_shard(run.pk, shards - 1) is True, "the last shard lets the run settle"
    assert services.score_shard(run.pk, shards - 1) is False, "and only once"
    run.refresh_from_db()
    assert run.progress == 0.5 and run.status == MatchRun.Status.RUNNING
    settings.MDM_BATCH_GOLDEN_CHUNK = 1
    chunks = services.settle_batch_run(run.pk)
    assert chunks == 3, "one chunk per new golden record"
    assert services.settle_batch_run(run.pk) == chunks, "settling delivered twice enqueues the same chunks"
    services.create_golden_chunk(run.pk, 0)
    services.create_golden_chunk(run.pk, 0)
    assert GoldenRecord.objects.count() == 1, "a repeated chunk writes nothing again"
    services.create_golden_chunk(run.pk, 1)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.RUNNING and 0.6 < run.progress < 1.0
    services.create_golden_chunk(run.pk, 2)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.DONE and run.progress == 1.0
    assert "settling" not in run.stats and "finishing" not in run.stats
    assert GoldenRecord.objects.count() == 3
    assert frozenset({"A1", "A2", "A3"}) in _grouping()


def test_candidates_from_the_key_index_are_the_pure_neighbourhood(crm):
    """The database look-up (one UNION ALL statement per step) finds what the engine's own rule finds:
    whole small blocks, and in an oversized block the `window` records sorting nearest either side."""
    from dataclasses import replace

    from matching.models import BlockingKey
    from matching.settings import default_settings

    held = [load(crm, f"H{n}", name=f"Held {n}") for n in range(12)]
    sorts = {r.pk: f"name{n % 7:02d}" for n, r in enumerate(held)}
    index = {"big": [r.pk for r in held], "small": [held[0].pk, held[5].pk]}
    for key, pks in index.items():
        BlockingKey.objects.bulk_create(
            BlockingKey(domain="customer", key=key, record_id=pk, sort=sorts[pk]) for pk in pks
        )
    settings = replace(default_settings("customer"), max_block=3, window=2)
    new = [load(crm, f"N{n}", name=f"New {n}") for n in range(2)]
    # one record's keys, then many records' keys (the look-up takes another road past FEW_KEYS)
    few = {new[0].pk: ["big", "small", "absent"]}
    many = {r.pk: ["big", "small", *(f"k{n}" for n in range(services.FEW_KEYS))] for r in new}
    for keys_of in (few, many):
        found = services._candidates_of("customer", keys_of, settings)
        for pk, keys in keys_of.items():
            expected = neighbour_candidates(keys, index, sorts, settings.max_block, window=settings.window)
            assert found[pk] == expected - {pk}
            assert {held[0].pk, held[5].pk} <= found[pk] and len(found[pk]) < len(held)


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

    def rematched() -> list[int]:
        """The record counts of the batch runs so far, each done."""
        runs = MatchRun.objects.order_by("pk")
        assert all(run.status == MatchRun.Status.DONE for run in runs)
        return [run.records for run in runs]

    add(0, services.MIN_RECORDS_TO_FIT - 1, resolve=False)
    add(services.MIN_RECORDS_TO_FIT - 1, services.MIN_RECORDS_TO_FIT, resolve=True)
    assert fitted_records() == services.MIN_RECORDS_TO_FIT
    assert rematched() == [services.MIN_RECORDS_TO_FIT], "decisions follow the new model"
    grown = int(services.REFIT_GROWTH * services.MIN_RECORDS_TO_FIT)
    add(services.MIN_RECORDS_TO_FIT, grown - 2, resolve=False)
    add(grown - 2, grown - 1, resolve=True)
    assert fitted_records() == services.MIN_RECORDS_TO_FIT, "not refitted before the domain has grown enough"
    assert rematched() == [services.MIN_RECORDS_TO_FIT]
    add(grown - 1, grown, resolve=True)
    assert fitted_records() == grown
    assert rematched() == [services.MIN_RECORDS_TO_FIT, grown]
    batch()
    assert fitted_records() == grown, "a batch run over an unchanged domain keeps the model"


def test_a_refit_starts_no_batch_run_beside_one_under_way_or_when_turned_off(
    crm, settings, monkeypatch, on_commit
):
    load(crm, "A", **ACME)
    running = services.start_batch("customer")
    assert services.rematch("customer") is None
    assert MatchRun.objects.count() == 1
    running.status = MatchRun.Status.DONE
    running.save()
    started = services.rematch("customer")
    started.refresh_from_db()
    assert started.status == MatchRun.Status.DONE
    monkeypatch.setattr(services, "MIN_RECORDS_TO_FIT", 1)  # one record is enough to refit
    for rematch, runs in ((True, 3), (False, 3)):
        settings.MDM_REMATCH_ON_REFIT = rematch
        model = services.MatchModel.from_settings(services.default_settings("customer"))
        with on_commit():
            refitted = services._model_for_chunk("customer", model.settings, model, newest=10**9)
        assert refitted.fitted_records == 1
        assert MatchRun.objects.count() == runs


@pytest.mark.parametrize("when", ["while it prepares", "while it scores"])
def test_a_refit_during_a_batch_run_starts_another_run_when_it_finishes(
    crm, erp, billing, monkeypatch, on_commit, when
):
    """The rematch a refit asks for is not started beside a run under way, which scores with the
    model it fixed before the refit; the refit's decisions come from a run started when it ends."""
    from matching import tasks

    def refit() -> None:
        monkeypatch.setattr(services, "MIN_RECORDS_TO_FIT", 1)
        model = services.MatchModel.from_settings(services.default_settings("customer"))
        with on_commit():
            services._model_for_chunk("customer", model.settings, model, newest=10**9)

    _small_estate(crm, erp, billing)
    run = services.start_batch("customer")
    if when == "while it prepares":
        # after the run read its model, before it stored its shards; once (the run the refit
        # starts prepares too)
        prepare = services.prepare_batch

        def refit_then_prepare(*args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(services, "prepare_batch", prepare)
            refit()
            return prepare(*args, **kwargs)

        monkeypatch.setattr(services, "prepare_batch", refit_then_prepare)
    shards = services._prepare_batch(run)
    if when == "while it scores":
        refit()
    assert MatchRun.objects.count() == 1, "not beside the run under way"
    with on_commit():
        for index in range(shards):
            tasks.score_shard.delay(run.pk, index)
    runs = list(MatchRun.objects.order_by("pk"))
    assert [r.status for r in runs] == [MatchRun.Status.DONE, MatchRun.Status.DONE]
    assert runs[1].scoring["model"]["fitted_records"] == 7, "the second run scores with the refitted model"
    with on_commit():
        batch()
    assert MatchRun.objects.count() == 3, "a run that saw no refit starts none"


def test_incremental_reviews_follow_the_question_the_clustering_asks_now(crm, billing, on_commit):
    """A review opened for a pair is superseded when a later record answers it: the new record
    links to both sides, so the clustering no longer asks whether they are one party."""
    city = {"city": "New York", "country": "US"}
    people = [
        (crm, "A", {"name": "Acme Widgets Inc.", "phone": "+1 212 555 0100", "address_line1": "1 Main Street",
                    "postal_code": "10001", **city}),
        (billing, "B", {"name": "Acme Widgets", "email": "billing@acme.com", **city}),
        (crm, "C", {"name": "Acme Widgets", "phone": "+1 212 555 0100", "website": "acme.com", **city}),
    ]  # fmt: skip
    asked = []
    for system, source_id, attributes in people:
        with on_commit():
            payload = {"source_id": source_id, **attributes}
            ingest_records(system=system, domain="customer", payloads=[payload], received_via="t")
        asked.append(
            set(
                ReviewTask.objects.filter(status=ReviewTask.Status.OPEN).values_list(
                    "left__source_id", "right__source_id"
                )
            )
        )
    assert asked[1] == {("A", "B")}, "A and B alone are a steward's question"
    assert asked[2] == set(), "C answers it"
    assert ReviewTask.objects.filter(status=ReviewTask.Status.SUPERSEDED).count() == 1
    assert SourceRecord.objects.values("golden_id").distinct().count() == 1


def test_a_batch_run_replaces_open_reviews_but_never_asks_a_judged_pair(crm, erp):
    from matching.features import features
    from matching.model import MatchModel
    from matching.settings import default_settings
    from mdm.choices import Domain

    a, b, c = (load(crm, s, name=f"Acme {s}") for s in "ABC")
    for r in (a, b, c):
        golden_service.create_golden("customer", [r], reason="t")
    a.refresh_from_db()
    GoldenRecord.objects.create(
        domain=Domain.CONTRACT, customer_id=a.golden_id, attributes={"status": "active"}
    )
    old = ReviewTask.objects.create(domain="customer", left=b, right=c, score=1, probability=0.5)
    Judgement.objects.create(domain="customer", left=b, right=c, verdict=Verdict.NO_MATCH)
    model = MatchModel.from_settings(default_settings("customer"))
    score = model.score(features("customer", a.attributes), features("customer", b.attributes))
    services._replace_reviews("customer", [(b.pk, a.pk, score), (c.pk, b.pk, score)])
    old.refresh_from_db()
    assert old.status == ReviewTask.Status.SUPERSEDED
    opened = ReviewTask.objects.get(status=ReviewTask.Status.OPEN)
    assert (opened.left_id, opened.right_id) == (a.pk, b.pk), "the judged pair is not asked again"
    assert opened.impact == 1, "A's customer has an open contract"
    assert opened.explanation == score.to_dict()


def test_a_review_between_records_without_golden_records_yet_is_opened(crm, erp):
    from matching.features import features
    from matching.model import MatchModel
    from matching.settings import default_settings

    # a first batch run asks its questions before its chunk tasks write the golden records
    a, b = load(crm, "A", name="Acme A"), load(erp, "B", name="Acme B")
    model = MatchModel.from_settings(default_settings("customer"))
    score = model.score(features("customer", a.attributes), features("customer", b.attributes))
    services._replace_reviews("customer", [(a.pk, b.pk, score)])
    opened = ReviewTask.objects.get(status=ReviewTask.Status.OPEN)
    assert (opened.left_id, opened.right_id, opened.impact) == (a.pk, b.pk, 0)


def test_the_cached_model_is_read_again_only_after_a_refit(monkeypatch):
    """The fitted model is large (term frequencies of every record): a process re-reads the settings
    when its cache entry is old, the model only when another process has refitted it."""
    from django.utils import timezone

    from matching.model import MatchModel
    from matching.models import MatchConfig
    from matching.settings import default_settings

    config = services.match_config("customer")
    fitted = MatchModel.from_settings(default_settings("customer"))
    fitted.fitted_records = 1234
    MatchConfig.objects.filter(pk=config.pk).update(model=fitted.to_dict(), fitted_at=timezone.now())
    monkeypatch.setattr(services, "CACHE_SECONDS", 0.0)
    _, first = services.settings_and_model("customer")
    assert first.fitted_records == 1234
    edited = {**config.settings, "upper_threshold": 9.5}
    MatchConfig.objects.filter(pk=config.pk).update(settings=edited)
    match_settings, again = services.settings_and_model("customer")
    assert again is first, "not refitted: the model in memory serves on"
    assert match_settings.upper_threshold == 9.5, "while an edit of the settings is seen"
    fitted.fitted_records = 5678
    MatchConfig.objects.filter(pk=config.pk).update(model=fitted.to_dict(), fitted_at=timezone.now())
    _, refitted = services.settings_and_model("customer")
    assert refitted.fitted_records == 5678


def test_review_impact_follows_a_golden_record_on_either_side_of_a_task(crm, ingest):
    """A golden record's source records may be the left or the right of an open task: both re-rank."""
    names = ("Alpha Widgets GmbH", "Zeta Cars Ltd", "Omega Pipes SA")
    ingest(
        crm, "customer", *({"source_id": f"S{i}", "name": n, "country": "DE"} for i, n in enumerate(names))
    )
    a, b, c = (SourceRecord.objects.get(source_id=f"S{i}") for i in range(3))
    assert len({a.golden_id, b.golden_id, c.golden_id}) == 3
    kw = {"domain": "customer", "score": 4.0, "probability": 0.9, "impact": 1}
    as_left = ReviewTask.objects.create(left=a, right=b, **kw)
    as_right = ReviewTask.objects.create(left=c, right=a, **kw)
    elsewhere = ReviewTask.objects.create(left=b, right=c, **kw)
    # no open contract anywhere: the tasks over a's golden record lose their urgency, the other keeps it
    assert services.refresh_review_impact([a.golden_id]) == 2
    impacts = {t.pk: t.impact for t in ReviewTask.objects.all()}
    assert (impacts[as_left.pk], impacts[as_right.pk], impacts[elsewhere.pk]) == (0, 0, 1)


def test_stored_features_read_in_bulk_are_those_each_record_holds(crm, erp):
    held = [load(crm, f"C{i}", **{**ACME, "name": f"Acme {i}"}) for i in range(5)]
    held.append(load(erp, "E", name="Other Co"))
    services.ensure_features(SourceRecord.objects.select_related("system"))
    stored = {r.pk: SourceRecord.objects.get(pk=r.pk).features for r in held}
    assert all(f.get("name") for f in stored.values())
    # in chunks of two records: every chunk read, none twice
    assert held_features("customer", chunk=2) == stored
    assert held_features("product") == {}
    some = [held[0].pk, held[3].pk, max(stored) + 100]
    assert features_of(some) == {held[0].pk: stored[held[0].pk], held[3].pk: stored[held[3].pk]}


def test_a_batch_run_of_a_domain_without_records_clears_its_keys():
    BlockingKey.objects.create(domain="product", key="name:acme", record_id=10**9, sort="~")
    run = services.run_batch(services.start_batch("product").pk)
    assert run.status == MatchRun.Status.DONE, run.error
    assert not BlockingKey.objects.filter(domain="product").exists()


FITTED = {"fitted_records": 5000}


def _settings_migrated(step, stored: dict[str, Any]):
    """The customer config after a settings migration's `step` ran on `stored` settings beside a fitted
    model."""
    from django.apps import apps

    config = services.match_config("customer")
    config.settings, config.model = stored, dict(FITTED)
    config.save()
    step(apps, None)
    config.refresh_from_db()
    return config


def _upgrades_and_back(add, remove, stored: dict[str, Any], default: dict[str, Any]) -> None:
    """`add` brings `stored` settings to `default` and drops the fitted model, so that the next
    resolution refits it; run again, it keeps the model; `remove` gives `stored` back."""
    config = _settings_migrated(add, stored)
    assert config.model is None, "refitted with the new settings"
    assert services.load_settings(config)[0].to_dict() == default
    config = _settings_migrated(add, config.settings)
    assert config.model == FITTED, "settings that have it keep their model"
    config = _settings_migrated(remove, config.settings)
    assert config.settings["fields"] == stored["fields"]


def test_stored_settings_gain_the_country_stages_and_drop_a_model_fitted_without_them():
    from importlib import import_module

    migration = import_module("matching.migrations.0009_country_stages")
    stored = services.default_settings("customer").to_dict()
    for spec in stored["fields"]:
        spec.pop("stages")
    config = _settings_migrated(migration.add_country_stages, stored)
    assert config.model is None, "refitted with u estimated within each stage"
    settings, _ = services.load_settings(config)
    assert settings.field("country").stages == [["exact", "else"], ["hint", "hint_else"]]
    assert settings.field("name").stages == []
    config = _settings_migrated(migration.add_country_stages, config.settings)
    assert config.model == FITTED, "settings that have their stages keep their model"
    config = _settings_migrated(migration.remove_country_stages, config.settings)
    assert not any("stages" in spec for spec in config.settings["fields"])


def test_resolve_refresh_features_normalises_every_record_again(crm, billing):
    """After an upgrade that changes what features hold, `resolve --refresh-features` recomputes them
    (features stored before the e-mail address was one hold none); a plain run keeps them."""
    from django.core.management import call_command

    person = {"party_type": "individual", "country": "DE"}
    a = load(crm, "P1", **person, name="Anna Berg", email="anna.berg77@gmail.com", phone="030 1234567")
    b = load(billing, "T1", **person, name="Berg, Anna", email="Anna.Berg77@gmail.com")
    services.ensure_features([a, b])
    stale = {pk: {k: v for k, v in f.items() if k != "email"} for pk, f in features_of([a.pk, b.pk]).items()}
    for pk, features in stale.items():
        SourceRecord.objects.filter(pk=pk).update(features=features)
    batch()
    a.refresh_from_db()
    b.refresh_from_db()
    assert "email" not in b.features, "a plain run keeps stored features"
    call_command("resolve", "customer", "--refresh-features", stdout=io.StringIO())
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.features["email"] == "anna.berg77@gmail.com"
    assert a.golden_id == b.golden_id


def test_an_upgrade_compares_a_persons_email_and_their_given_names_as_conflicting():
    from importlib import import_module

    migration = import_module("matching.migrations.0011_person_email")
    default = _before_echoes(services.default_settings("customer").to_dict())
    assert _unechoed(next(spec for spec in default["fields"] if spec["name"] == "email")) == migration.EMAIL
    stored = {**default, "fields": [dict(spec) for spec in default["fields"] if spec["name"] != "email"]}
    for spec in stored["fields"]:
        if spec["name"] == "given_name":
            spec["conflict_levels"] = []
    _upgrades_and_back(migration.add_person_email, migration.remove_person_email, stored, default)


def test_an_upgrade_compares_a_persons_generation():
    from importlib import import_module

    migration = import_module("matching.migrations.0012_person_generation")
    default = _before_echoes(services.default_settings("customer").to_dict())
    assert (
        _unechoed(next(spec for spec in default["fields"] if spec["name"] == "generation"))
        == migration.GENERATION
    )
    stored = {**default, "fields": [dict(spec) for spec in default["fields"] if spec["name"] != "generation"]}
    _upgrades_and_back(migration.add_person_generation, migration.remove_person_generation, stored, default)


def _unechoed(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "echoes"}


def _before_echoes(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as they load before migration 0013: no field echoes another."""
    return {**settings, "fields": [{**spec, "echoes": None} for spec in settings["fields"]]}


def test_an_upgrade_weighs_a_domain_as_the_echo_of_the_name():
    from importlib import import_module

    migration = import_module("matching.migrations.0013_domain_echoes_name")
    default = services.default_settings("customer").to_dict()
    stored = {**default, "fields": [_unechoed(spec) for spec in default["fields"]]}
    _upgrades_and_back(migration.domain_echoes_name, migration.domain_echoes_nothing, stored, default)


def test_an_upgrade_compares_names_at_the_acronym_level():
    from importlib import import_module

    migration = import_module("matching.migrations.0014_name_acronym_level")
    default = services.default_settings("customer").to_dict()
    stored = copy.deepcopy(default)
    name = next(spec for spec in stored["fields"] if spec["name"] == "name")
    name["levels"].remove("acronym")
    del name["prior_m"]["acronym"], name["prior_u"]["acronym"]
    name["prior_m"]["else"] = 0.04  # as the defaults had it: the new level takes its share
    _upgrades_and_back(migration.add_acronym, migration.remove_acronym, stored, default)


def test_an_upgrade_puts_the_acronym_level_into_the_names_stage():
    """Settings an administrator gave stages keep a level in one of them, or fail to load."""
    from importlib import import_module

    migration = import_module("matching.migrations.0014_name_acronym_level")
    stored = services.default_settings("customer").to_dict()
    name = next(spec for spec in stored["fields"] if spec["name"] == "name")
    name["levels"].remove("acronym")
    name["stages"] = [["exact", "high"], ["medium", "low", "else"]]
    config = _settings_migrated(migration.add_acronym, stored)
    settings, _ = services.load_settings(config)
    assert settings.field("name").stages == [["exact", "high"], ["medium", "low", "acronym", "else"]]


def test_an_upgrade_to_shards_in_bytes_fails_the_runs_still_scoring_and_no_other():
    from importlib import import_module

    from django.apps import apps

    from matching.models import GoldenChunk, MatchShard

    migration = import_module("matching.migrations.0010_shards_in_bytes")
    scoring, writing, featuring = (services.start_batch("customer") for _ in range(3))
    for run in (scoring, writing):
        MatchShard.objects.create(run=run, index=0, pairs=b"")
    GoldenChunk.objects.create(run=writing, index=0, groups=[], keys=[])
    migration.fail_runs_scoring(apps, None)
    statuses = dict(MatchRun.objects.values_list("pk", "status"))
    assert statuses == {scoring.pk: "failed", writing.pk: "running", featuring.pk: "running"}
    assert not MatchShard.objects.exists()


def neighbour_candidates(
    keys: list[str], index: dict[str, list[int]], sort_key_of: dict[int, str], max_block: int, *, window: int
) -> set[int]:
    """The rule of the key look-up in plain Python: a whole block up to ``max_block`` members; of a
    larger one, the ``window`` members whose name key sorts nearest to the record's on either side
    (what sorted neighbourhood pairs in a batch run)."""
    import bisect

    from matching.blocking import sort_key

    own = sort_key(keys)
    out: set[int] = set()
    for k in keys:
        members = index.get(k)
        if not members:
            continue
        if len(members) <= max_block:
            out.update(members)
            continue
        ordered = sorted(members, key=lambda r: (sort_key_of.get(r, "~"), r))
        pos = bisect.bisect_left([sort_key_of.get(r, "~") for r in ordered], own)
        out.update(ordered[max(0, pos - window) : pos + window])
    return out


def test_a_batch_run_scores_with_the_model_fitted_beside_it(crm, erp, billing, monkeypatch):
    """The model a batch run fits from the records alone comes from its own task (here run in
    process, as an eager queue runs it): the run scores with it, and it becomes the domain's."""
    monkeypatch.setattr(services, "MIN_RECORDS_TO_FIT", 1)
    _small_estate(crm, erp, billing)
    run = batch()
    config = services.match_config("customer")
    assert run.scoring["model"]["fitted_records"] == 7 == config.model["fitted_records"]
    assert run.stats["model_fitted_at"] == config.fitted_at.isoformat()
    assert "skipped" in run.stats["em"] and run.stats["model_seconds"] > 0  # seven records: priors kept
    assert "fitting" not in run.stats and "model" in run.stats["seconds"]
    assert frozenset({"A1", "A2", "A3"}) in _grouping()


def test_a_run_whose_model_fit_was_begun_elsewhere_and_never_ends_fails(
    crm, erp, billing, monkeypatch, settings
):
    """The worker that found the pairs waits for a fit another worker began; if that worker is lost,
    the run fails with the reason instead of waiting for ever."""
    monkeypatch.setattr(services, "MIN_RECORDS_TO_FIT", 1)
    monkeypatch.setattr(services, "FIT_POLL", 0.01)
    settings.MDM_BATCH_FIT_WAIT = 0.05
    _small_estate(crm, erp, billing)
    run = services.start_batch("customer")
    assert services._claim_fit(run.pk, "lost-task"), "as a worker that began the fit and was lost"
    with pytest.raises(RuntimeError, match="not fitted within"):
        services.run_batch(run.pk)
    run.refresh_from_db()
    assert run.status == MatchRun.Status.FAILED and "not fitted within" in run.error
    assert not services._claim_fit(run.pk, "another-task"), "the fit is claimed once"


def test_a_preparing_task_delivered_again_prepares_a_run_once(crm, erp, billing):
    """Delivered again while its run is prepared, the preparing returns the shards stored; delivered
    after the run ended, it does nothing."""
    _small_estate(crm, erp, billing)
    run = services.start_batch("customer")
    shards = services._prepare_batch(run)
    run.refresh_from_db()
    prepared = dict(run.stats)
    assert services._prepare_batch(run) == shards and MatchShard.objects.filter(run=run).count() == shards
    run.refresh_from_db()
    assert run.stats == prepared, "not prepared again"
    done = batch()
    again = services.run_batch(done.pk)
    assert again.status == MatchRun.Status.DONE and again.stats == done.stats
    assert not MatchShard.objects.filter(run=done).exists()


def test_a_fit_task_delivered_again_after_its_process_died_fits_anew(crm, erp, billing, monkeypatch):
    """A fit task is delivered again only when the process running it died: the same task (its ID)
    takes its own claim over and fits; any other task leaves a claimed fit alone."""
    monkeypatch.setattr(services, "MIN_RECORDS_TO_FIT", 1)
    _small_estate(crm, erp, billing)
    run = services.start_batch("customer")
    assert services._claim_fit(run.pk, "task-1"), "began the fit, then its process died"
    services.fit_batch_model(run.pk, claimant="task-2")
    run.refresh_from_db()
    assert "model_fitted_at" not in run.stats, "another task does not begin a claimed fit"
    services.fit_batch_model(run.pk, claimant="task-1")
    run.refresh_from_db()
    assert run.stats["model_fitted_at"] and run.scoring["model"]["fitted_records"] == 7
