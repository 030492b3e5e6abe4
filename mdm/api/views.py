"""REST views: thin doors onto the selectors and services of `mdm`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from matching import services as match_services
from mdm import quality, reference, selectors
from mdm.choices import Domain, QuarantineStatus
from mdm.filtersets import GoldenRecordFilterSet, QuarantinedRecordFilterSet
from mdm.ingest import ingest_records, replay_quarantined
from mdm.models import AuditEntry, QuarantinedRecord, SourceSystem
from mdm.schemas import validate

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


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")


def _xref_query(params: Any) -> dict[str, str]:
    """The look-up's parameters as XrefLookupSerializer validates them.

    Well-formed ones pass a plain check: the serializer deep-copies its fields on every request, a
    fifth of the look-up's time. Anything else goes through it, for its error messages.
    """
    system, domain, source_id = (params.get(name, "") for name in ("system", "domain", "source_id"))
    well_formed = 0 < len(source_id) <= 120 and source_id == source_id.strip()
    if well_formed and _SLUG.match(system) and domain in Domain.values:
        return {"system": system, "domain": domain, "source_id": source_id}
    query = s.XrefLookupSerializer(data=params)
    query.is_valid(raise_exception=True)
    return query.validated_data


class XrefLookupView(APIView):
    """The golden ID and golden record of one source system's record."""

    # JSON only: negotiating among renderers was a tenth of this hot read's time.
    renderer_classes = [JSONRenderer]

    @extend_schema(parameters=[s.XrefLookupSerializer], responses={200: s.XrefAnswerSerializer})
    def get(self, request: Request) -> Response:
        query = _xref_query(request.query_params)
        held, golden = selectors.xref_golden(**query)
        if not held:
            raise ApiError("source_record_not_found", "The hub holds no such source record.", 404)
        # Built by hand, not by a ModelSerializer: this is the hub's hottest read, and building the
        # serializer's fields cost more than the query (measured: about half of each request).
        return Response(
            {
                **query,
                "golden_id": str(golden.pk) if golden else None,
                "golden": s.golden_summary(golden) if golden else None,
            }
        )


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
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
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
        as_of = request.query_params.get("as_of")
        if as_of:
            return self._as_of(golden, as_of)
        response = Response(s.GoldenDetailSerializer(golden).data)
        response["ETag"] = f'"{golden.pk}-{golden.version}"'
        return response

    def _as_of(self, golden: Any, raw: str) -> Response:
        moment = parse_datetime(raw) or (parse_date(raw) and datetime.combine(parse_date(raw), time.max))
        if not moment:
            raise ApiError("invalid", "as_of must be an ISO 8601 date or date-time.", 400, {"as_of": [raw]})
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        past = selectors.golden_as_of(golden, moment)
        if past is None:
            raise ApiError("not_yet_created", "The golden record did not exist at that moment.", 404)
        return Response({**s.GoldenRecordSerializer(past).data, "as_of": moment.isoformat()})

    @extend_schema(responses={200: s.HierarchySerializer})
    @action(detail=True)
    def hierarchy(self, request: Request, pk: str) -> Response:
        """Ancestors (nearest first) and descendants of a customer."""
        golden, _ = selectors.golden_lookup(pk)
        if golden is None:
            raise ApiError("golden_record_not_found", "No golden record has this ID.", 404)
        return Response(s.HierarchySerializer(selectors.hierarchy(golden)).data)


class EntitlementCheckView(APIView):
    """Is this customer entitled to support now? For a support desk to call at case creation."""

    @extend_schema(
        parameters=[s.EntitlementCheckQuerySerializer], responses={200: s.EntitlementCheckSerializer}
    )
    def get(self, request: Request) -> Response:
        query = s.EntitlementCheckQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data.get("customer"):
            customer, _ = selectors.golden_lookup(data["customer"])
        else:
            record = selectors.source_record(
                system=data["system"], domain="customer", source_id=data["source_id"]
            )
            customer = selectors.golden_lookup(record.golden_id)[0] if record and record.golden_id else None
        if customer is None or customer.domain != "customer":
            raise ApiError("customer_not_found", "The hub knows no such customer.", 404)
        answer = selectors.entitlement_check(customer, data.get("product"), data.get("product_system"))
        return Response(s.EntitlementCheckSerializer({"customer_id": customer.pk, **answer}).data)


class MatchSearchView(APIView):
    """Search before create: the golden records a new record would match, with explanations."""

    reads_only = True

    @extend_schema(request=s.MatchSearchSerializer, responses={200: s.MatchCandidateSerializer(many=True)})
    def post(self, request: Request, domain: str) -> Response:
        if domain not in Domain.values:
            raise ApiError("unknown_domain", f"Unknown domain {domain!r}.", 404)
        body = s.MatchSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        clean, errors = validate(domain, {"source_id": "search", **body.validated_data["attributes"]})
        if errors:
            raise ApiError("invalid", "The attributes are not valid.", 400, errors)
        results = match_services.search(domain, clean, limit=body.validated_data["limit"])
        return Response({"results": s.MatchCandidateSerializer(results, many=True).data})


class QualityView(APIView):
    """Data-quality figures: duplicates, completeness, review backlog, unmapped codes, mismatches."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(quality.figures())


class UnmappedCodesView(APIView):
    """Product codes named by contracts or entitlements that resolve to no product."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response({"results": reference.unmapped_codes()})


class CodeMappingView(APIView):
    """Map a system's product code to the catalogue's canonical code (staff only: governed data)."""

    @extend_schema(request=s.CodeMappingSerializer, responses={201: s.CodeMappingSerializer})
    def post(self, request: Request) -> Response:
        if key_of(request) is not None:
            raise ApiError(
                "staff_only", "Code mappings are governed: a signed-in data steward changes them.", 403
            )
        body = s.CodeMappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        system = SourceSystem.objects.filter(code=data.pop("system")).first()
        if system is None:
            raise ApiError("unknown_system", "No such source system.", 404)
        mapping = reference.map_code(system=system, canonical=data.pop("canonical_code"), **data)
        _audit(
            request, "map_code", f"{system.code}:{mapping.code}", {"canonical_code": mapping.canonical_code}
        )
        return Response({**body.validated_data}, status=status.HTTP_201_CREATED)


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
