"""Connections to SaaS accounts, their sync cursors and runs, received webhooks, and outbound deliveries."""

from __future__ import annotations

import uuid

from django.db import models

from mdm.choices import Domain
from mdm.models import OutboxEvent, SourceSystem

from .choices import DeliveryStatus, RunStatus, WebhookStatus


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class Connection(models.Model):
    """One configured account of one vendor, feeding one source system and subscribed to golden changes."""

    name = models.SlugField(max_length=60, unique=True)
    system = models.ForeignKey(SourceSystem, on_delete=models.PROTECT, related_name="connections")
    connector = models.CharField(max_length=40, help_text="Registry key, e.g. stripe, salesforce.")
    # Settings that are not secret, validated against the connector's config schema.
    config = models.JSONField(default=dict, blank=True)
    # The secret settings as one Fernet token (see connectors.crypto); never shown back in full.
    secrets = models.TextField(blank=True)
    sync_domains = models.JSONField(default=list, blank=True, help_text="Domains pulled from the vendor.")
    push_domains = models.JSONField(default=list, blank=True, help_text="Domains whose changes it receives.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.connector})"


class SyncCursor(models.Model):
    """How far a connection's domain stream has been read and safely stored; the next run resumes here."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="cursors")
    domain = models.CharField(max_length=16, choices=Domain.choices)
    stream = models.CharField(max_length=60, help_text="The vendor object, e.g. Account or organizations.")
    position = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "domain", "stream"], name="uniq_sync_cursor")
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.domain}:{self.stream} @ {self.position}"


class SyncRun(models.Model):
    """One inbound sync of one connection and domain: its counts, errors and progress, as it runs."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    domain = models.CharField(max_length=16, choices=Domain.choices)
    full = models.BooleanField(default=False, help_text="Read everything again from the beginning.")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    correlation_id = models.CharField(max_length=40, default=new_correlation_id, db_index=True)
    trigger = models.CharField(max_length=20, default="manual")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True, help_text="Stream and position while running.")
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "domain", "status"])]

    def __str__(self) -> str:
        return f"sync {self.connection_id}:{self.domain} {self.status}"


class WebhookEvent(models.Model):
    """A verified webhook delivery, stored before it is processed; the vendor's event ID makes it unique."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="webhook_events")
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=120, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.QUEUED)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=1, help_text="How many times the vendor sent it.")
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["connection", "event_id"], name="uniq_webhook_event")]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.event_id}"


class Delivery(models.Model):
    """One outbox event to one subscribed connection; retried until it succeeds or is declared dead."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    # What the vendor calls the records written, e.g. {"Account": ["001…"]}.
    external_ids = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["connection", "event"], name="uniq_delivery")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"delivery {self.event_id} -> {self.connection_id} {self.status}"


class DeliveryAttempt(models.Model):
    """One try at a delivery, with its outcome."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    correlation_id = models.CharField(max_length=40, default=new_correlation_id)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="uniq_delivery_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
