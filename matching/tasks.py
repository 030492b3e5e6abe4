"""Celery doors onto the matching services."""

from celery import Task, shared_task

from . import services


@shared_task(acks_late=True)
def resolve_records(record_ids: list[int]) -> int:
    """Resolve these source records incrementally. Idempotent: a resolved record stays where it is."""
    return services.resolve_records(record_ids)


@shared_task(acks_late=True)
def resolve_domain(run_id: int) -> None:
    """Batch-resolve the domain of MatchRun `run_id`: records stored without features are normalised
    first, in chunks on every worker; then the run is prepared and its shards fanned out."""
    chunks = services.plan_features(run_id)
    if not chunks:
        services.run_batch(run_id)
    for index in range(chunks):
        compute_features.delay(run_id, index)


@shared_task(acks_late=True)
def compute_features(run_id: int, index: int) -> None:
    """Compute the features of one chunk of a batch run's records; the last one enqueues the
    preparing. Idempotent per chunk."""
    if services.compute_feature_chunk(run_id, index):
        prepare_batch_run.delay(run_id)


@shared_task(acks_late=True)
def prepare_batch_run(run_id: int) -> None:
    """Prepare a batch run (keys, blocking, model, shards) and fan its shards out."""
    services.run_batch(run_id)


@shared_task(acks_late=True, bind=True)
def fit_batch_model(self: Task, run_id: int) -> None:
    """Fit a batch run's model while another worker finds its candidate pairs."""
    services.fit_batch_model(run_id, claimant=self.request.id)


@shared_task(acks_late=True)
def score_shard(run_id: int, index: int) -> None:
    """Score one shard of a batch run; the last one enqueues the settling. Idempotent per shard."""
    if services.score_shard(run_id, index):
        settle_batch_run.delay(run_id)


@shared_task(acks_late=True)
def settle_batch_run(run_id: int) -> None:
    """Cluster a batch run's scored pairs and reconcile golden records with the clusters; fan the new
    golden records and the domain's blocking keys out in chunks."""
    for index in range(services.settle_batch_run(run_id)):
        create_golden_chunk.delay(run_id, index)


@shared_task(acks_late=True)
def create_golden_chunk(run_id: int, index: int) -> None:
    """Write one chunk of a batch run's new golden records and blocking keys; the last one finishes the
    run. Idempotent per chunk."""
    services.create_golden_chunk(run_id, index)
