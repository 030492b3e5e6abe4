"""Source systems, source records (the cross-reference), golden records, quarantine, API keys,
audit trail and outbox events."""

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .choices import Domain, GoldenStatus, QuarantineStatus, SystemKind


class SourceSystem(models.Model):
    """A system the hub exchanges records with (a CRM, an ERP, a support desk, a billing platform)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=16, choices=SystemKind.choices, default=SystemKind.OTHER)
    # Per-domain trust in [0, 1], e.g. {"customer": 0.9}: a survivorship tie-break after ownership.
    trust = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def trust_for(self, domain: str) -> float:
        return float(self.trust.get(domain, 0.5))


class GoldenRecord(models.Model):
    """The hub's one version of a real-world thing, built from its source records.

    A retired golden record was merged away; `merged_into` points at its survivor, so the ID keeps
    answering (invariant: golden IDs are stable).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    domain = models.CharField(max_length=16, choices=Domain.choices, db_index=True)
    status = models.CharField(max_length=8, choices=GoldenStatus.choices, default=GoldenStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retired_records"
    )
    name = models.CharField(max_length=300, blank=True, db_index=True)
    # Survived values, by canonical attribute name; multi-valued attributes are lists.
    attributes = models.JSONField(default=dict, blank=True)
    # Per attribute: which source record and which rule produced the value.
    lineage = models.JSONField(default=dict, blank=True)
    # Steward pins: attribute -> value that wins survivorship until unpinned.
    pins = models.JSONField(default=dict, blank=True)
    # Customer hierarchy (a subsidiary's parent); contracts and entitlements point at their customer.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    customer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="customer_of"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        indexes = [models.Index(fields=["domain", "status", "name"])]

    def __str__(self) -> str:
        return f"{self.domain}:{self.id}"

    @property
    def is_retired(self) -> bool:
        return self.status == GoldenStatus.RETIRED


class SourceRecord(models.Model):
    """One record of one system in one domain, as received and in canonical form.

    `golden` is the cross-reference: which golden record this source record belongs to.
    """

    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="records")
    domain = models.CharField(max_length=16, choices=Domain.choices)
    source_id = models.CharField(max_length=120)
    raw = models.JSONField(help_text="The payload exactly as received.")
    attributes = models.JSONField(help_text="Canonical attributes after validation.")
    # Normalised match features (see matching.features); recomputed when attributes change.
    features = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    golden = models.ForeignKey(
        GoldenRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="source_records"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at", "features", "raw"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "domain", "source_id"], name="uniq_source_record")
        ]
        indexes = [models.Index(fields=["domain", "golden"])]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.domain}:{self.source_id}"


class QuarantinedRecord(models.Model):
    """An incoming record that failed validation, kept with the reason until fixed and replayed."""

    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="quarantined")
    domain = models.CharField(max_length=16, choices=Domain.choices)
    source_id = models.CharField(max_length=120, blank=True)
    raw = models.JSONField()
    errors = models.JSONField(help_text="Field -> list of messages.")
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN)
    received_via = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # "domain:system:source_id" of a missing referenced record; its arrival replays this one.
    waiting_for = models.CharField(max_length=200, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "system", "domain"])]

    def __str__(self) -> str:
        return f"quarantined {self.system_id}:{self.domain}:{self.source_id}"


class ApiKey(models.Model):
    """A key issued to one source system; only its SHA-256 is stored."""

    system = models.ForeignKey(SourceSystem, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.system_id}/{self.name} ({self.prefix}…)"


class AuditEntry(models.Model):
    """Who did what, when and why: steward actions and API writes."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target}"


class OutboxEvent(models.Model):
    """A golden change, written in the same transaction as the change, for the relay to deliver."""

    golden = models.ForeignKey(GoldenRecord, on_delete=models.CASCADE, related_name="events")
    domain = models.CharField(max_length=16, choices=Domain.choices)
    kind = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    relayed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["golden", "version", "kind"], name="uniq_event_version")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.golden_id} v{self.version}"

    @property
    def idempotency_key(self) -> str:
        return f"{self.golden_id}:{self.version}:{self.kind}"


class SurvivorshipRule(models.Model):
    """How one attribute of one domain survives: the rule, and for `owner` the ranked owning systems.

    `ranking` names system codes or system kinds (`erp`, `crm`, …), best first.
    """

    class Rule(models.TextChoices):
        OWNER = "owner"
        MOST_RECENT = "most_recent"
        MOST_COMPLETE = "most_complete"
        MOST_FREQUENT = "most_frequent"
        UNION = "union"

    domain = models.CharField(max_length=16, choices=Domain.choices)
    attribute = models.CharField(max_length=60)
    rule = models.CharField(max_length=16, choices=Rule.choices, default=Rule.MOST_RECENT)
    ranking = models.JSONField(default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "attribute"], name="uniq_survivorship")]
        ordering = ["domain", "attribute"]

    def __str__(self) -> str:
        return f"{self.domain}.{self.attribute}: {self.rule} {self.ranking}"


class CodeMapping(models.Model):
    """Reference data: one system's code for a product, mapped to the catalogue's canonical code.

    The canonical code is the product's code in the owning catalogue (by default the ERP's SKU).
    Ingest uses it to recognise one product under each system's code, contracts and entitlements to
    resolve the products they name, and outbound sync to translate a code back into a system's own.
    """

    domain = models.CharField(max_length=16, choices=Domain.choices, default=Domain.PRODUCT)
    system = models.ForeignKey(SourceSystem, on_delete=models.CASCADE, related_name="code_mappings")
    code = models.CharField(max_length=80)
    canonical_code = models.CharField(max_length=80, db_index=True)
    owner = models.CharField(max_length=120, help_text="Who answers for this mapping (a person or team).")
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "system", "code"], name="uniq_code_mapping")]
        ordering = ["canonical_code", "system__code"]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.code} -> {self.canonical_code}"
