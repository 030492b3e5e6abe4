"""REST views: thin doors onto the selectors and services of `mdm`."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mdm import selectors
from mdm.choices import Domain, QuarantineStatus
from mdm.filtersets import GoldenRecordFilterSet, QuarantinedRecordFilterSet
from mdm.ingest import ingest_records, replay_quarantined
from mdm.models import AuditEntry, QuarantinedRecord, SourceSystem

from . import serializers as s
from .errors import ApiError
from .permissions import key_of, may_write_as


class CreatedCursor(CursorPagination):
    ordering = "-created_at"


class ReceivedCursor(CursorPagination):
    ordering = "-received_at"


def _audit(request: Request, action_name: str, target: str, detail: dict[str, Any]) -> None:
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    AuditEntry.objects.create(
        user=user, api_key=key_of(request), action=action_name, target=target, detail=detail
    )


class XrefLookupView(APIView):
    """The golden ID and golden record of one source system's record."""

    @extend_schema(parameters=[s.XrefLookupSerializer], responses={200: s.XrefAnswerSerializer})
    def get(self, request: Request) -> Response:
        query = s.XrefLookupSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        record = selectors.source_record(**query.validated_data)
        if record is None:
            raise ApiError("source_record_not_found", "The hub holds no such source record.", 404)
        golden, _ = selectors.golden_lookup(record.golden_id) if record.golden_id else (None, False)
        answer = {**query.validated_data, "golden_id": golden.pk if golden else None, "golden": golden}
        return Response(s.XrefAnswerSerializer(answer).data)


class XrefExportView(APIView):
    """The whole cross-reference of a domain as CSV: system,source_id,golden_id."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, domain: str) -> StreamingHttpResponse:
        if domain not in Domain.values:
            raise ApiError("unknown_domain", f"Unknown domain {domain!r}.", 404)
        response = StreamingHttpResponse(selectors.xref_csv_lines(domain), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="xref-{domain}.csv"'
        return response


class GoldenRecordViewSet(viewsets.ReadOnlyModelViewSet):
    """Golden records: list and filter per domain; read one with its source records."""

    serializer_class = s.GoldenRecordSerializer
    filterset_class = GoldenRecordFilterSet
    pagination_class = CreatedCursor

    def get_queryset(self) -> Any:
        return selectors.golden_records()

    @extend_schema(
        responses={
            200: s.GoldenDetailSerializer,
            301: OpenApiResponse(description="Retired ID: Location names the survivor."),
        }
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        golden, retired = selectors.golden_lookup(pk)
        if golden is None:
            raise ApiError("golden_record_not_found", "No golden record has this ID.", 404)
        if retired:
            response = Response(
                {
                    "code": "retired",
                    "message": "This golden record was merged.",
                    "survivor_id": str(golden.pk),
                },
                status=status.HTTP_301_MOVED_PERMANENTLY,
            )
            response["Location"] = request.build_absolute_uri(f"../{golden.pk}/")
            return response
        response = Response(s.GoldenDetailSerializer(golden).data)
        response["ETag"] = f'"{golden.pk}-{golden.version}"'
        return response


class IngestView(APIView):
    """Ingest many records of one system and domain; answers per record."""

    @extend_schema(request=s.IngestRequestSerializer, responses={200: s.IngestResponseSerializer})
    def post(self, request: Request, system: str, domain: str) -> Response:
        if domain not in Domain.values:
            raise ApiError("unknown_domain", f"Unknown domain {domain!r}.", 404)
        source_system = SourceSystem.objects.filter(code=system).first()
        if source_system is None:
            raise ApiError("unknown_system", f"No source system {system!r} is registered.", 404)
        if not may_write_as(request, system):
            raise ApiError("wrong_system", "This API key may write records only as its own system.", 403)
        body = s.IngestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        report = ingest_records(
            system=source_system,
            domain=domain,
            payloads=body.validated_data["records"],
            received_via="api",
            user=user,
        )
        _audit(request, "ingest", f"{system}/{domain}", report.counts)
        return Response({"counts": report.counts, "results": [o.as_dict() for o in report.outcomes]})


class QuarantineViewSet(viewsets.ReadOnlyModelViewSet):
    """Records that failed validation, with their reasons; a fixed record is replayed."""

    serializer_class = s.QuarantinedRecordSerializer
    filterset_class = QuarantinedRecordFilterSet
    pagination_class = ReceivedCursor

    def get_queryset(self) -> Any:
        return QuarantinedRecord.objects.select_related("system")

    @extend_schema(request=s.ReplayRequestSerializer, responses={200: s.RecordOutcomeSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str) -> Response:
        record = get_object_or_404(QuarantinedRecord.objects.select_related("system"), pk=pk)
        if record.status != QuarantineStatus.OPEN:
            raise ApiError("not_open", f"This record was already {record.status}.", 409)
        if not may_write_as(request, record.system.code):
            raise ApiError("wrong_system", "This API key may write records only as its own system.", 403)
        body = s.ReplayRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        outcome = replay_quarantined(record, payload=body.validated_data.get("payload"), user=user)
        _audit(request, "replay", f"quarantine/{record.pk}", {"outcome": outcome.outcome})
        return Response(outcome.as_dict())


class SourceSystemList(generics.ListAPIView):
    """The registered source systems."""

    queryset = SourceSystem.objects.all()
    serializer_class = s.SourceSystemSerializer
    pagination_class = None
