"""Enumerations of the connectors app."""

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSED = "processed"
    FAILED = "failed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
