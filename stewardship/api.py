"""Steward command endpoints under /api/v1/steward/: the same services the console calls.

Signed-in users only (session with CSRF); reads need the viewer role and return masked personal data
to viewers, commands need the steward role. Errors use the API's one error shape.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from matching.models import ReviewTask
from mdm.api.errors import ApiError
from mdm.api.serializers import GoldenRecordSerializer, RecordOutcomeSerializer
from mdm.models import GoldenRecord

from . import selectors, services
from .masking import mask_attributes, mask_explanation, person_of
from .roles import STEWARD, VIEWER, has_role, role_of


class ConsoleRole(permissions.BasePermission):
    """Reads for viewers and up, writes for stewards and up."""

    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        needed = VIEWER if request.method in permissions.SAFE_METHODS else STEWARD
        return has_role(request.user, needed)


class StewardView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [ConsoleRole]

    def run(self, action: Any) -> Any:
        try:
            return action()
        except services.StewardError as exc:
            raise ApiError(exc.code, exc.message, exc.status) from exc


def _golden(golden: GoldenRecord) -> dict[str, Any]:
    return {"golden": GoldenRecordSerializer(golden).data}


class ReviewTaskSerializer(serializers.ModelSerializer):
    explanation = serializers.SerializerMethodField()
    left = serializers.SerializerMethodField()
    right = serializers.SerializerMethodField()

    class Meta:
        model = ReviewTask
        fields = [
            "id",
            "domain",
            "status",
            "score",
            "probability",
            "explanation",
            "left",
            "right",
            "created_at",
        ]

    def _side(self, record: Any) -> dict[str, Any]:
        return {
            "id": record.pk,
            "system": record.system.code,
            "source_id": record.source_id,
            "golden_id": str(record.golden_id) if record.golden_id else None,
            "attributes": mask_attributes(record.attributes, self.context.get("masked", True)),
        }

    @extend_schema_field(OpenApiTypes.ANY)  # a list of field contributions, or a dict holding them
    def get_explanation(self, task: ReviewTask) -> Any:
        person = person_of(task.left.attributes, task.right.attributes)
        return mask_explanation(task.explanation, person, self.context.get("masked", True))

    def get_left(self, task: ReviewTask) -> dict[str, Any]:
        return self._side(task.left)

    def get_right(self, task: ReviewTask) -> dict[str, Any]:
        return self._side(task.right)


class TaskList(StewardView):
    """Open review tasks in queue order (impact, then probability); filter by domain, system, band."""

    @extend_schema(responses={200: ReviewTaskSerializer(many=True)})
    def get(self, request: Request) -> Response:
        flt = selectors.QueueFilter.from_query(request.query_params)
        tasks = selectors.open_tasks(flt)[:200]
        masked = role_of(request.user) == VIEWER
        data = ReviewTaskSerializer(tasks, many=True, context={"masked": masked}).data
        return Response({"count": selectors.open_tasks(flt).count(), "results": data})


class MergeBody(serializers.Serializer):
    survivor_id = serializers.UUIDField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class TaskMerge(StewardView):
    """Accept a review task: merge its golden records; the chosen survivor keeps its golden ID."""

    @extend_schema(request=MergeBody, responses={200: GoldenRecordSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = MergeBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        survivor = self.run(
            lambda: services.task_merge(
                task_id=pk,
                user=request.user,
                survivor_id=data.get("survivor_id"),
                reason=data.get("reason", ""),
            )
        )
        return Response(_golden(survivor))


class ReasonBody(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class TaskReject(StewardView):
    """Not a match: remembered for good; the task closes."""

    @extend_schema(request=ReasonBody, responses={200: ReviewTaskSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = ReasonBody(data=request.data)
        body.is_valid(raise_exception=True)
        task = self.run(
            lambda: services.task_reject(
                task_id=pk, user=request.user, reason=body.validated_data.get("reason", "")
            )
        )
        return Response({"id": task.pk, "status": task.status})


class BulkBody(serializers.Serializer):
    domain = serializers.CharField(required=False, allow_blank=True)
    min_probability = serializers.FloatField(required=False, default=services.BULK_MIN_PROBABILITY)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class TaskBulkAccept(StewardView):
    """Merge the clearest open tasks (probability at or above the bulk bar)."""

    @extend_schema(
        request=BulkBody,
        responses={200: inline_serializer("BulkAccepted", {"merged": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        body = BulkBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        merged = services.tasks_bulk_accept(
            user=request.user,
            reason=data.get("reason", ""),
            domain=data.get("domain") or None,
            min_probability=data["min_probability"],
        )
        return Response({"merged": merged})


class RequiredReasonBody(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class RecordSplit(StewardView):
    """Split a source record out of its golden record into a new golden ID (a comment is required)."""

    @extend_schema(request=RequiredReasonBody, responses={200: GoldenRecordSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = RequiredReasonBody(data=request.data)
        body.is_valid(raise_exception=True)
        new = self.run(
            lambda: services.record_split(
                record_id=pk, user=request.user, reason=body.validated_data["reason"]
            )
        )
        return Response(_golden(new), status=201)


class MoveBody(RequiredReasonBody):
    target_id = serializers.UUIDField()


class RecordMove(StewardView):
    """Move a source record into another golden record of its domain (a comment is required)."""

    @extend_schema(request=MoveBody, responses={200: GoldenRecordSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = MoveBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        target = self.run(
            lambda: services.record_move(
                record_id=pk, target_id=data["target_id"], user=request.user, reason=data["reason"]
            )
        )
        return Response(_golden(target))


class PinBody(RequiredReasonBody):
    attribute = serializers.CharField(max_length=60)
    value = serializers.JSONField()


class GoldenPin(StewardView):
    """Pin an attribute value of a golden record: it wins survivorship until unpinned."""

    @extend_schema(request=PinBody, responses={200: GoldenRecordSerializer})
    def post(self, request: Request, pk: str) -> Response:
        body = PinBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        golden = self.run(
            lambda: services.golden_pin(
                golden_id=pk,
                attribute=data["attribute"],
                value=data["value"],
                user=request.user,
                reason=data["reason"],
            )
        )
        return Response(_golden(golden))


class UnpinBody(ReasonBody):
    attribute = serializers.CharField(max_length=60)


class GoldenUnpin(StewardView):
    """Remove a pin: the attribute survives by its rule again."""

    @extend_schema(request=UnpinBody, responses={200: GoldenRecordSerializer})
    def post(self, request: Request, pk: str) -> Response:
        body = UnpinBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        golden = self.run(
            lambda: services.golden_unpin(
                golden_id=pk, attribute=data["attribute"], user=request.user, reason=data.get("reason", "")
            )
        )
        return Response(_golden(golden))


class ReplayBody(serializers.Serializer):
    payload = serializers.DictField(required=False)


class QuarantineReplay(StewardView):
    """Replay a quarantined record, as received or with a corrected payload."""

    @extend_schema(request=ReplayBody, responses={200: RecordOutcomeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        body = ReplayBody(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = self.run(
            lambda: services.quarantine_replay(
                quarantine_id=pk, user=request.user, payload=body.validated_data.get("payload")
            )
        )
        return Response(outcome.as_dict())


class DeliveryReplay(StewardView):
    """Put a dead outbound delivery back in line."""

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "DeliveriesReplayed", {"replayed": serializers.ListField(child=serializers.IntegerField())}
            )
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        replayed = self.run(lambda: services.delivery_replay(delivery_id=pk, user=request.user))
        return Response({"replayed": replayed})


urlpatterns = [
    path("tasks/", TaskList.as_view(), name="steward-tasks"),
    path("tasks/bulk-accept/", TaskBulkAccept.as_view(), name="steward-bulk-accept"),
    path("tasks/<int:pk>/merge/", TaskMerge.as_view(), name="steward-merge"),
    path("tasks/<int:pk>/reject/", TaskReject.as_view(), name="steward-reject"),
    path("records/<int:pk>/split/", RecordSplit.as_view(), name="steward-split"),
    path("records/<int:pk>/move/", RecordMove.as_view(), name="steward-move"),
    path("golden/<uuid:pk>/pin/", GoldenPin.as_view(), name="steward-pin"),
    path("golden/<uuid:pk>/unpin/", GoldenUnpin.as_view(), name="steward-unpin"),
    path("quarantine/<int:pk>/replay/", QuarantineReplay.as_view(), name="steward-replay"),
    path("deliveries/<int:pk>/replay/", DeliveryReplay.as_view(), name="steward-delivery-replay"),
]
