"""Doors onto the connector services: connections, sync runs, schedules, deliveries, and vendor webhooks."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from mdm.api.errors import ApiError

from .. import schedules
from ..delivery import deliveries_replay
from ..http import InvalidSignature
from ..models import Connection, Delivery, SyncRun
from ..sync import sync_start
from ..webhooks import webhook_receive
from . import serializers as s

log = logging.getLogger("connectors.webhooks")


class IsStaff(permissions.BasePermission):
    """Connections carry credentials: only staff (stewards, admins) manage them."""

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user and request.user.is_staff)


class ConnectionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Connection.objects.select_related("system")
    serializer_class = s.ConnectionSerializer
    permission_classes = [IsStaff]
    lookup_field = "name"

    @action(detail=True, methods=["post"])
    def sync(self, request: Request, name: str) -> Response:
        """Start a sync of one domain; `full` re-reads everything."""
        body = s.SyncStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            run = sync_start(connection=self.get_object(), trigger="api", **body.validated_data)
        except ValueError as exc:
            raise ApiError("invalid_domain", str(exc)) from exc
        return Response(s.SyncRunSerializer(run).data, status=202)

    @action(detail=True, methods=["get", "put"])
    def schedules(self, request: Request, name: str) -> Response:
        """Read or set the periodic syncs of this connection."""
        connection = self.get_object()
        if request.method == "PUT":
            body = s.ScheduleSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            schedules.schedule_set(connection=connection, **body.validated_data)
        rows = [
            {"name": t.name, "enabled": t.enabled, "every_seconds": t.interval.every if t.interval else None}
            for t in schedules.schedules_for(connection)
        ]
        return Response(rows)


class SyncRunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SyncRun.objects.select_related("connection")
    serializer_class = s.SyncRunSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["connection__name", "domain", "status"]
    ordering = "-created_at"


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Delivery.objects.select_related("connection").prefetch_related("attempt_rows")
    serializer_class = s.DeliverySerializer
    permission_classes = [IsStaff]
    filterset_fields = ["connection__name", "status"]
    ordering = "-id"

    @action(detail=False, methods=["post"])
    def replay(self, request: Request) -> Response:
        """Replay dead deliveries: all, the given IDs, or one connection's."""
        body = s.ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data.get("connection")
        connection = get_object_or_404(Connection, name=name) if name else None
        replayed = deliveries_replay(ids=body.validated_data.get("ids"), connection=connection)
        return Response({"replayed": replayed}, status=202)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, name: str) -> JsonResponse:
    """A vendor's webhook delivery: verified, stored once by event ID, processed in a task."""
    connection = Connection.objects.filter(name=name, enabled=True).first()
    if connection is None:
        return JsonResponse({"code": "not_found", "message": "No such connection."}, status=404)
    try:
        event, created = webhook_receive(connection=connection, headers=request.headers, body=request.body)
    except InvalidSignature as exc:
        log.warning("webhook for %s refused: %s", name, exc)
        return JsonResponse({"code": "invalid_signature", "message": str(exc)}, status=400)
    return JsonResponse({"event_id": event.event_id, "duplicate": not created}, status=200)
