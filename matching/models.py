"""The Django side of identity resolution: settings, blocking keys, review tasks, judgements, runs."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from mdm.choices import Domain
from mdm.models import SourceRecord


class MatchConfig(models.Model):
    """Match settings of one domain (editable) and the model last fitted to its data."""

    domain = models.CharField(max_length=16, choices=Domain.choices, unique=True)
    settings = models.JSONField(help_text="matching.settings.MatchSettings as a dict.")
    model = models.JSONField(
        null=True, blank=True, help_text="Fitted m/u probabilities and term frequencies."
    )
    fitted_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["model"])

    def __str__(self) -> str:
        return f"match settings: {self.domain}"


class BlockingKey(models.Model):
    """One blocking key of one source record: a new record finds its candidates by these, indexed."""

    domain = models.CharField(max_length=16, choices=Domain.choices)
    key = models.CharField(max_length=120)
    # Without an index of its own (the unique (record, key) index serves look-ups by record) and
    # without a database constraint: a batch run rewrites every key of a domain, and at 300,000
    # records its 3.5 million rows took 56 s to write with the two, 40 s without. Django still
    # deletes a record's keys with the record; a key left by a record deleted otherwise names no
    # record (look-ups find no features for it, though it counts in its block's size) until the next
    # batch run rewrites the domain's keys.
    record = models.ForeignKey(
        SourceRecord,
        on_delete=models.CASCADE,
        related_name="blocking_keys",
        db_index=False,
        db_constraint=False,
    )
    # The record's name key: inside an oversized block, candidates are the records that sort nearest
    # (sorted neighbourhood), found by a range scan of (domain, key, sort, record). The record ID in
    # the index breaks ties in the scan's order, so it stops after `window` entries instead of
    # sorting the whole rest of the block (32 ms against 0.1 ms in a block of 25,000).
    sort = models.CharField(max_length=120, default="~")

    class Meta:
        indexes = [models.Index(fields=["domain", "key", "sort", "record"], name="blockingkey_neighbourhood")]
        constraints = [models.UniqueConstraint(fields=["record", "key"], name="uniq_record_key")]

    def __str__(self) -> str:
        return self.key


class Verdict(models.TextChoices):
    MATCH = "match"
    NO_MATCH = "no_match"


class Judgement(models.Model):
    """A steward's verdict on a pair of source records; binds every later run (left.id < right.id)."""

    domain = models.CharField(max_length=16, choices=Domain.choices)
    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="uniq_judgement_pair"),
            models.CheckConstraint(condition=models.Q(left__lt=models.F("right")), name="judgement_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id}~{self.right_id}: {self.verdict}"


class ReviewTask(models.Model):
    """A pair the engine was unsure of, with its explanation, waiting for a steward."""

    class Status(models.TextChoices):
        OPEN = "open"
        MERGED = "merged"
        REJECTED = "rejected"
        SUPERSEDED = "superseded"

    domain = models.CharField(max_length=16, choices=Domain.choices, db_index=True)
    left = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="Match weight (log2 Bayes factor).")
    probability = models.FloatField()
    explanation = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    # Business impact, the queue's first sort key: 1 when either record's golden customer has an open
    # contract (mdm.selectors.open_contracts). Set when the task opens, refreshed when contracts change.
    impact = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [
            models.Index(fields=["domain", "status", "-probability"]),
            # The review queue's order (stewardship.selectors.open_tasks).
            models.Index(
                fields=["domain", "status", "-impact", "-probability", "-score", "id"],
                name="review_queue_order",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["left", "right"], condition=models.Q(status="open"), name="uniq_open_review"
            )
        ]

    def __str__(self) -> str:
        return f"review {self.left_id}~{self.right_id} ({self.probability:.2f})"


class MatchRun(models.Model):
    """A batch resolution of one domain: a row the console shows and a restart reads."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    domain = models.CharField(max_length=16, choices=Domain.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # The settings and model every shard of this run scores with, fixed when it prepared its pairs.
    scoring = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.domain} run {self.pk} ({self.status})"


class FeatureChunk(models.Model):
    """A range of source record IDs whose features a batch run computes in one task on any worker.

    Only records stored without features (a first run after a bulk load) are split this way; the
    last chunk to finish enqueues the rest of the run.
    """

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="feature_chunks")
    index = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="uniq_feature_chunk")]

    def __str__(self) -> str:
        return f"feature chunk {self.index} of run {self.run_id}"


class MatchShard(models.Model):
    """A share of a batch run's candidate pairs, scored by one task on any worker.

    The pairs are stored rather than sent with the task so that a message stays small and a shard
    run twice (a worker lost after scoring) is recognised by `done_at` and not counted twice. Pairs
    and edges are arrays in bytes (``matching.shards``): as JSON, storing the 11 million pairs of
    300,000 records took 13 s, most of it the database parsing them.
    """

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    pairs = models.BinaryField()
    edges = models.BinaryField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="uniq_match_shard")]

    def __str__(self) -> str:
        return f"shard {self.index} of run {self.run_id}"


class GoldenChunk(models.Model):
    """A share of what settling a batch run writes, by one task on any worker: new golden records,
    and the blocking keys of a span of source record IDs.

    Only clusters none of whose records held a golden record are written this way, and the keys of
    every record of the domain: nothing else in the run waits on them, so they spread over every
    worker once the run's clusters are settled.
    """

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="golden_chunks")
    index = models.PositiveIntegerField()
    groups = models.JSONField(default=list, help_text="Source record IDs of each new golden record.")
    keys = models.JSONField(
        default=list,
        help_text="First and last source record ID whose blocking keys the chunk rewrites (empty: none).",
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="uniq_golden_chunk")]

    def __str__(self) -> str:
        return f"golden chunk {self.index} of run {self.run_id}"
