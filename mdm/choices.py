"""Enumerations shared by models, services and the API."""

from django.db import models


class Domain(models.TextChoices):
    CUSTOMER = "customer"
    PRODUCT = "product"
    CONTRACT = "contract"
    ENTITLEMENT = "entitlement"


class SystemKind(models.TextChoices):
    CRM = "crm"
    ERP = "erp"
    SUPPORT = "support"
    BILLING = "billing"
    OTHER = "other"


class GoldenStatus(models.TextChoices):
    ACTIVE = "active"
    RETIRED = "retired"


class Outcome(models.TextChoices):
    """What ingest did with one incoming record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"
    QUARANTINED = "quarantined"


class QuarantineStatus(models.TextChoices):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class Scope(models.TextChoices):
    READ = "read"
    WRITE = "write"
