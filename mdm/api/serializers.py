"""Response and request shapes of the REST API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from mdm.choices import Domain
from mdm.models import GoldenRecord, QuarantinedRecord, SourceRecord, SourceSystem


class SourceRecordSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.code")
    golden_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = SourceRecord
        fields = [
            "id",
            "system",
            "domain",
            "source_id",
            "golden_id",
            "attributes",
            "source_updated_at",
            "updated_at",
        ]


class GoldenRecordSerializer(serializers.ModelSerializer):
    parent_id = serializers.UUIDField(allow_null=True, read_only=True)
    customer_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = GoldenRecord
        fields = [
            "id", "domain", "status", "name", "attributes", "lineage", "pins",
            "parent_id", "customer_id", "version", "created_at", "updated_at",
        ]  # fmt: skip


def golden_summary(golden: GoldenRecord) -> dict[str, Any]:
    """What GoldenRecordSerializer gives, built directly (the xref look-up's hot path)."""
    return {
        "id": str(golden.pk),
        "domain": golden.domain,
        "status": golden.status,
        "name": golden.name,
        "attributes": golden.attributes,
        "lineage": golden.lineage,
        "pins": golden.pins,
        "parent_id": str(golden.parent_id) if golden.parent_id else None,
        "customer_id": str(golden.customer_id) if golden.customer_id else None,
        "version": golden.version,
        "created_at": golden.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": golden.updated_at.isoformat().replace("+00:00", "Z"),
    }


class GoldenDetailSerializer(GoldenRecordSerializer):
    source_records = SourceRecordSerializer(many=True, read_only=True)

    class Meta(GoldenRecordSerializer.Meta):
        fields = [*GoldenRecordSerializer.Meta.fields, "source_records"]


class XrefLookupSerializer(serializers.Serializer):
    system = serializers.SlugField()
    domain = serializers.ChoiceField(choices=Domain.choices)
    source_id = serializers.CharField(max_length=120)


class XrefAnswerSerializer(serializers.Serializer):
    system = serializers.CharField()
    domain = serializers.CharField()
    source_id = serializers.CharField()
    golden_id = serializers.UUIDField(allow_null=True)
    golden = GoldenRecordSerializer(allow_null=True)


class IngestRequestSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=5000)


class RecordOutcomeSerializer(serializers.Serializer):
    source_id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged", "stale", "quarantined"])
    quarantine_id = serializers.IntegerField(required=False)
    reason = serializers.CharField(required=False)
    errors = serializers.DictField(required=False)


class IngestResponseSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    results = RecordOutcomeSerializer(many=True)


class QuarantinedRecordSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.code")

    class Meta:
        model = QuarantinedRecord
        fields = [
            "id", "system", "domain", "source_id", "raw", "errors", "reason", "status",
            "received_via", "waiting_for", "received_at", "resolved_at", "resolution",
        ]  # fmt: skip


class ReplayRequestSerializer(serializers.Serializer):
    payload = serializers.DictField(required=False, help_text="A corrected payload; omit to replay as held.")


class SourceSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = SourceSystem
        fields = ["code", "name", "kind", "trust"]


class EntitlementCheckQuerySerializer(serializers.Serializer):
    customer = serializers.UUIDField(required=False, help_text="The customer's golden ID.")
    system = serializers.SlugField(required=False, help_text="With source_id: a system's own customer ID.")
    source_id = serializers.CharField(required=False, max_length=120)
    product = serializers.CharField(required=False, max_length=80, help_text="A product code.")
    product_system = serializers.SlugField(required=False, help_text="Whose code `product` is.")

    def validate(self, data: dict) -> dict:
        if not data.get("customer") and not (data.get("system") and data.get("source_id")):
            raise serializers.ValidationError("Give customer (a golden ID) or system and source_id.")
        return data


class EntitlementCheckSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    eligible = serializers.BooleanField()
    status = serializers.CharField()
    reason = serializers.CharField()
    sla_level = serializers.CharField(allow_null=True)
    entitlement_id = serializers.UUIDField(allow_null=True)


class HierarchySerializer(serializers.Serializer):
    ancestors = GoldenRecordSerializer(many=True)
    descendants = GoldenRecordSerializer(many=True)


class CodeMappingSerializer(serializers.Serializer):
    system = serializers.SlugField()
    code = serializers.CharField(max_length=80)
    canonical_code = serializers.CharField(max_length=80)
    owner = serializers.CharField(max_length=120)
    note = serializers.CharField(required=False, allow_blank=True)


class MatchSearchSerializer(serializers.Serializer):
    attributes = serializers.DictField(help_text="Canonical attributes of a record not yet in any system.")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=5)


class ContributionSerializer(serializers.Serializer):
    field = serializers.CharField()
    level = serializers.CharField()
    weight = serializers.FloatField()
    left = serializers.JSONField(allow_null=True)
    right = serializers.JSONField(allow_null=True)


class MatchCandidateSerializer(serializers.Serializer):
    golden_id = serializers.UUIDField()
    name = serializers.CharField()
    decision = serializers.ChoiceField(choices=["match", "possible"])
    matched_record = serializers.IntegerField()
    weight = serializers.FloatField(help_text="Match weight: log2 of the Bayes factor, prior included.")
    probability = serializers.FloatField()
    contributions = ContributionSerializer(many=True)
