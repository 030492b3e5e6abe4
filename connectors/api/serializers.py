"""Input and output shapes of the connectors API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..connections import masked_config
from ..models import Connection, Delivery, DeliveryAttempt, SyncRun


class ConnectionSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)
    config = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = ["id", "name", "connector", "system", "config", "sync_domains", "push_domains", "enabled"]

    def get_config(self, obj: Connection) -> dict[str, Any]:
        return masked_config(obj)


class SyncRunSerializer(serializers.ModelSerializer):
    connection = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection",
            "domain",
            "full",
            "status",
            "trigger",
            "correlation_id",
            "created_at",
            "started_at",
            "finished_at",
            "read",
            "created",
            "updated",
            "unchanged",
            "stale",
            "quarantined",
            "pages",
            "requests",
            "progress",
            "errors",
        ]


class SyncStartSerializer(serializers.Serializer):
    domain = serializers.CharField()
    full = serializers.BooleanField(default=False)


class ScheduleSerializer(serializers.Serializer):
    domain = serializers.CharField()
    every_seconds = serializers.IntegerField(min_value=10)
    enabled = serializers.BooleanField(default=True)


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = [
            "number",
            "correlation_id",
            "started_at",
            "finished_at",
            "succeeded",
            "status_code",
            "error",
        ]


class DeliverySerializer(serializers.ModelSerializer):
    connection = serializers.SlugRelatedField(slug_field="name", read_only=True)
    attempt_rows = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "connection",
            "event",
            "idempotency_key",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "external_ids",
            "created_at",
            "attempt_rows",
        ]


class ReplaySerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    connection = serializers.CharField(required=False)
