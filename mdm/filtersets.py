"""Filters shared by the API and the console."""

import django_filters

from .choices import Domain
from .models import GoldenRecord, QuarantinedRecord


class GoldenRecordFilterSet(django_filters.FilterSet):
    domain = django_filters.ChoiceFilter(choices=Domain.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    parent = django_filters.UUIDFilter(field_name="parent_id")
    customer = django_filters.UUIDFilter(field_name="customer_id")

    class Meta:
        model = GoldenRecord
        fields = ["domain", "status", "name", "parent", "customer"]


class QuarantinedRecordFilterSet(django_filters.FilterSet):
    system = django_filters.CharFilter(field_name="system__code")

    class Meta:
        model = QuarantinedRecord
        fields = ["system", "domain", "status"]
