"""Reads for the console: the review queue, task comparison, golden record pages, search, KPIs.

Every selector that returns values of records takes `masked` and masks personal data on the server,
so a viewer's page never carries it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from matching.models import MatchConfig, MatchRun, ReviewTask
from mdm.choices import Domain, GoldenStatus, QuarantineStatus
from mdm.golden import current
from mdm.models import AuditEntry, GoldenRecord, QuarantinedRecord, SourceRecord, SourceSystem
from mdm.schemas import SCHEMAS
from mdm.survivorship import display_name as survived_name

from .masking import display_name, is_personal, mask_attributes, mask_explanation, mask_value, person_of

# Probability bands of the queue filter, best first: (name, lower bound inclusive, upper bound exclusive).
BANDS: list[tuple[str, float, float]] = [("high", 0.9, 1.01), ("medium", 0.5, 0.9), ("low", 0.0, 0.5)]
# Attributes whose completeness the dashboard reports, per domain.
KEY_ATTRIBUTES: dict[str, list[str]] = {
    "customer": ["name", "tax_id", "website", "address", "phone"],
    "product": ["name", "code", "category"],
    "contract": ["start_date", "end_date", "status"],
    "entitlement": ["sla_level", "start_date", "end_date", "status"],
}


# ------------------------------------------------------------------------------------------ review queue
@dataclass(frozen=True)
class QueueFilter:
    domain: str = ""
    system: str = ""
    band: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> QueueFilter:
        domain = query.get("domain", "")
        band = query.get("band", "")
        return cls(
            domain=domain if domain in Domain.values else "",
            system=str(query.get("system", ""))[:40],
            band=band if band in {b[0] for b in BANDS} else "",
        )

    def as_query(self) -> str:
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in vars(self).items() if v})


def _filtered(flt: QueueFilter) -> QuerySet[ReviewTask]:
    """Open review tasks under a filter, unordered (what the counts need)."""
    tasks = ReviewTask.objects.filter(status=ReviewTask.Status.OPEN)
    if flt.domain:
        tasks = tasks.filter(domain=flt.domain)
    if flt.system:
        tasks = tasks.filter(Q(left__system__code=flt.system) | Q(right__system__code=flt.system))
    for name, low, high in BANDS:
        if flt.band == name:
            tasks = tasks.filter(probability__gte=low, probability__lt=high)
    return tasks


def _in_queue_order(flt: QueueFilter | None) -> QuerySet[ReviewTask]:
    """Open review tasks in queue order, from the task table alone: customers with open contracts
    first, then by probability. The impact is stored on the task (matching.services keeps it
    current), so the order is the review_queue_order index's.
    """
    return _filtered(flt or QueueFilter()).order_by("-impact", "-probability", "-score", "pk")


def open_tasks(flt: QueueFilter | None = None) -> QuerySet[ReviewTask]:
    """Open review tasks in queue order, with their records, systems and golden records."""
    return _in_queue_order(flt).select_related(
        "left__system", "right__system", "left__golden", "right__golden"
    )


def queue_page(flt: QueueFilter, limit: int = 100) -> list[ReviewTask]:
    """The head of the queue with its records: the IDs first, then those rows.

    Ordering the joined rows would make PostgreSQL join every open task to the source and golden
    tables before sorting (a hash join over all source records); the IDs come from the task table.
    """
    ids = list(_in_queue_order(flt).values_list("pk", flat=True)[:limit])
    rows = open_tasks(flt).in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def queue_counts(flt: QueueFilter) -> dict[str, Any]:
    """Open task counts per domain, per system and per band, each under the other filters.

    One aggregate query per dimension (conditional counts), not one query per value.
    """

    def count_by(base: QueueFilter, conditions: dict[str, Q]) -> dict[str, int]:
        if not conditions:
            return {}
        found = _filtered(base).aggregate(
            **{f"c{i}": Count("pk", filter=q) for i, q in enumerate(conditions.values())}
        )
        return {name: found[f"c{i}"] for i, name in enumerate(conditions)}

    by_domain = count_by(QueueFilter("", flt.system, flt.band), {d: Q(domain=d) for d in Domain.values})
    by_band = count_by(
        QueueFilter(flt.domain, flt.system, ""),
        {name: Q(probability__gte=low, probability__lt=high) for name, low, high in BANDS},
    )
    # Each task's two systems by a look-up per record, not a join of all source records.
    sides = {
        side: Subquery(SourceRecord.objects.filter(pk=OuterRef(f"{side}_id")).values("system_id"))
        for side in ("left", "right")
    }
    systems = dict(SourceSystem.objects.values_list("code", "pk"))
    found = (
        _filtered(QueueFilter(flt.domain, "", flt.band))
        .annotate(left_system=sides["left"], right_system=sides["right"])
        .aggregate(
            **{
                f"c{i}": Count("pk", filter=Q(left_system=pk) | Q(right_system=pk))
                for i, pk in enumerate(systems.values())
            }
        )
    )
    by_system = {code: found[f"c{i}"] for i, code in enumerate(systems)}
    return {
        "total": _filtered(flt).count(),
        "domain": by_domain,
        "band": by_band,
        "system": by_system,
    }


def next_task(flt: QueueFilter, after: int | None = None) -> ReviewTask | None:
    """The first open task of the queue other than `after` (its row only, by the queue's index)."""
    tasks = _in_queue_order(flt)
    if after is not None:
        tasks = tasks.exclude(pk=after)
    return tasks.first()


def band_of(probability: float) -> str:
    return next((name for name, low, high in BANDS if low <= probability < high), "low")


@dataclass
class FieldRow:
    name: str
    left: Any
    right: Any
    differs: bool
    personal: bool


@dataclass
class WaterfallBar:
    field: str
    level: str
    weight: float
    start: float
    end: float
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    left: Any = None
    right: Any = None


@dataclass
class Waterfall:
    bars: list[WaterfallBar] = field(default_factory=list)
    total: float = 0.0
    zero_x: float = 0.0
    upper_x: float | None = None
    lower_x: float | None = None
    width: int = 420
    height: int = 0
    row: int = 22
    label: int = 130


def _norm(value: Any) -> str:
    if isinstance(value, list):
        return "|".join(sorted(_norm(v) for v in value))
    return " ".join(str(value).lower().split()) if value not in (None, "") else ""


def compare_fields(
    left: Mapping[str, Any], right: Mapping[str, Any], domain: str, masked: bool
) -> list[FieldRow]:
    """The two records field by field in schema order, with differences flagged (before masking)."""
    # The source ID and modification time always differ between two records: they head the columns.
    skip = {"source_id", "updated_at"}
    order = [f.name for f in SCHEMAS[domain].fields if f.name not in skip]
    names = [n for n in order if n in left or n in right]
    names += sorted((left.keys() | right.keys()) - set(order) - skip)
    rows = []
    for name in names:
        a, b = left.get(name), right.get(name)
        personal = is_personal(name, left) or is_personal(name, right)
        rows.append(
            FieldRow(
                name=name,
                left=mask_value(a) if masked and personal else a,
                right=mask_value(b) if masked and personal else b,
                differs=_norm(a) != _norm(b),
                personal=personal,
            )
        )
    return rows


def contributions(explanation: Any) -> list[dict[str, Any]]:
    """The per-field rows of a task explanation, whichever shape the engine stored."""
    if isinstance(explanation, dict):
        explanation = explanation.get("contributions", [])
    return [c for c in explanation or [] if isinstance(c, dict) and "weight" in c]


def waterfall(
    explanation: Any, thresholds: tuple[float, float] | None, masked: bool, person: Mapping[str, Any]
) -> Waterfall:
    """Bars of the match weight: each field starts where the previous ended (a waterfall). A field's
    compared values are masked as the attribute of its name would be in `person`'s attributes (a
    person's name and national ID too)."""
    chart = Waterfall()
    running = 0.0
    for c in contributions(mask_explanation(explanation, person, masked)):
        weight = float(c.get("weight") or 0.0)
        chart.bars.append(
            WaterfallBar(
                field=str(c.get("field", "?")),
                level=str(c.get("level", "")),
                weight=round(weight, 2),
                start=running,
                end=running + weight,
                left=c.get("left"),
                right=c.get("right"),
            )
        )
        running += weight
    chart.total = round(running, 2)
    points = [0.0, running, *[b.start for b in chart.bars], *[b.end for b in chart.bars], *(thresholds or ())]
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    plot = chart.width - chart.label - 10

    def x(v: float) -> float:
        return round(chart.label + (v - low) / span * plot, 1)

    for index, bar in enumerate(chart.bars):
        bar.y = index * chart.row
        bar.x = x(min(bar.start, bar.end))
        bar.width = max(round(abs(x(bar.end) - x(bar.start)), 1), 1.0)
    chart.zero_x = x(0.0)
    if thresholds:
        chart.upper_x, chart.lower_x = x(thresholds[0]), x(thresholds[1])
    chart.height = (len(chart.bars) + 1) * chart.row + 10
    return chart


def thresholds(domain: str) -> tuple[float, float] | None:
    """(upper, lower) match-weight thresholds of a domain, when its settings exist."""
    config = MatchConfig.objects.filter(domain=domain).first()
    if config is None:
        from matching.settings import default_settings

        data = default_settings(domain).to_dict()
    else:
        data = config.settings
    try:
        return float(data["upper_threshold"]), float(data["lower_threshold"])
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class GoldenCard:
    golden: GoldenRecord | None
    name: str
    members: int


def _card(record: SourceRecord, masked: bool) -> GoldenCard:
    golden = current(record.golden_id) if record.golden_id else None
    if golden is None:
        return GoldenCard(None, "", 0)
    return GoldenCard(
        golden, display_name(golden.name, golden.attributes, masked), golden.source_records.count()
    )


def task_detail(task: ReviewTask, masked: bool) -> dict[str, Any]:
    """Everything the compare screen shows for one task."""
    left, right = task.left, task.right
    return {
        "task": task,
        "band": band_of(task.probability),
        "rows": compare_fields(left.attributes, right.attributes, task.domain, masked),
        "chart": waterfall(
            task.explanation, thresholds(task.domain), masked, person_of(left.attributes, right.attributes)
        ),
        "left_card": _card(left, masked),
        "right_card": _card(right, masked),
    }


# ------------------------------------------------------------------------------------------ golden record
@dataclass
class AttributeRow:
    name: str
    value: Any
    lineage: list[dict[str, Any]]
    pinned: bool

    @property
    def display(self) -> str:
        return show(self.value)


def show(value: Any) -> str:
    """A value as one line of text: lists joined, addresses written out."""
    if isinstance(value, list):
        return "; ".join(show(v) for v in value)
    if isinstance(value, dict):
        role = value.get("role")
        parts = ", ".join(str(v) for k, v in value.items() if k != "role" and v)
        return f"{parts} ({role})" if role else parts
    return "" if value is None else str(value)


def _lineage_rows(lineage: Any) -> list[dict[str, Any]]:
    if isinstance(lineage, dict):
        return [lineage]
    return [item for item in lineage or [] if isinstance(item, dict)]


def attribute_rows(golden: GoldenRecord, masked: bool) -> list[AttributeRow]:
    """Survived values with their lineage (system and rule per value), pins marked."""
    values = mask_attributes(golden.attributes, masked)
    return [
        AttributeRow(
            name=name,
            value=values[name],
            lineage=_lineage_rows(golden.lineage.get(name)),
            pinned=name in (golden.pins or {}),
        )
        for name in golden.attributes
    ]


def members(golden: GoldenRecord, masked: bool, as_of: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The golden record's source records (as of a moment when asked), attributes masked as needed."""
    if as_of is None:
        rows = list(golden.source_records.select_related("system").order_by("system__code", "source_id"))
    else:
        rows = list(SourceRecord.history.as_of(as_of).filter(golden_id=golden.pk))
    systems = {s.pk: s.code for s in SourceSystem.objects.all()}
    out = []
    for r in rows:
        attributes = mask_attributes(r.attributes, masked)
        out.append(
            {
                "record": r,
                "system": systems.get(r.system_id, r.system_id),
                "attributes": attributes,
                "name": survived_name(r.domain, {k: v for k, v in attributes.items() if k != "source_id"}),
            }
        )
    return out


def golden_as_of(golden: GoldenRecord, as_of: dt.datetime) -> GoldenRecord | None:
    """The golden record as it stood at `as_of`, or None when it did not exist yet."""
    try:
        return golden.history.as_of(as_of)
    except GoldenRecord.DoesNotExist:
        return None


def timeline(golden: GoldenRecord, masked: bool, limit: int = 50) -> list[dict[str, Any]]:
    """History newest first: what changed, who or which process, and why."""
    entries = list(
        golden.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    out = []
    for index, entry in enumerate(entries[:limit]):
        previous = entries[index + 1] if index + 1 < len(entries) else None
        changes = []
        if previous is not None:
            for change in entry.diff_against(previous, excluded_fields=["lineage"]).changes:
                if change.field == "attributes":
                    old, new = change.old or {}, change.new or {}
                    for key in sorted(old.keys() | new.keys()):
                        if old.get(key) != new.get(key):
                            hide = masked and (is_personal(key, old) or is_personal(key, new))
                            changes.append(
                                {
                                    "field": key,
                                    "old": mask_value(old.get(key)) if hide else old.get(key),
                                    "new": mask_value(new.get(key)) if hide else new.get(key),
                                }
                            )
                elif change.field == "name" and masked and is_personal("name", entry.attributes or {}):
                    changes.append(
                        {"field": "name", "old": mask_value(change.old), "new": mask_value(change.new)}
                    )
                elif change.field != "version":
                    changes.append({"field": change.field, "old": change.old, "new": change.new})
        # The listed name usually follows the name attribute: one line for the same change is enough.
        changes = [c for i, c in enumerate(changes) if c not in changes[:i]]
        out.append(
            {
                "at": entry.history_date,
                "version": entry.version,
                "kind": {"+": "created", "~": "changed", "-": "deleted"}.get(entry.history_type, ""),
                "who": entry.history_user.get_username() if entry.history_user else "",
                "reason": entry.history_change_reason or "",
                "changes": changes,
            }
        )
    return out


def related(golden: GoldenRecord, masked: bool) -> dict[str, Any]:
    """Hierarchy (parent, children) and the contracts and entitlements of a customer."""

    def named(g: GoldenRecord) -> dict[str, Any]:
        return {"golden": g, "name": display_name(g.name, g.attributes, masked)}

    active = GoldenRecord.objects.filter(status=GoldenStatus.ACTIVE)
    return {
        "parent": named(golden.parent) if golden.parent_id and golden.parent else None,
        "children": [named(g) for g in active.filter(parent=golden).order_by("name")],
        "contracts": list(active.filter(customer=golden, domain=Domain.CONTRACT).order_by("-created_at")),
        "entitlements": list(
            active.filter(customer=golden, domain=Domain.ENTITLEMENT).order_by("-created_at")
        ),
        "customer": named(golden.customer) if golden.customer_id and golden.customer else None,
    }


def audit_trail(golden: GoldenRecord, limit: int = 20) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target=f"golden/{golden.pk}").select_related("user")[:limit]


# ------------------------------------------------------------------------------------------ search
def search(query: str, limit: int = 50) -> QuerySet[GoldenRecord]:
    """Golden records by name, web domain, tax ID, email or any system's source ID."""
    query = query.strip()
    if not query:
        return GoldenRecord.objects.none()
    by_source = SourceRecord.objects.filter(source_id=query).values_list("golden_id", flat=True)
    found = (
        Q(name__icontains=query)
        | Q(attributes__website__icontains=query)
        | Q(attributes__tax_id__icontains=query)
        | Q(attributes__email__icontains=query)
        | Q(pk__in=[current(g).pk for g in by_source if g and current(g)])
    )
    return GoldenRecord.objects.filter(found, status=GoldenStatus.ACTIVE).order_by("domain", "name")[:limit]


# ------------------------------------------------------------------------------------------ sync monitor
def quarantine(system: str = "", domain: str = "", status: str = QuarantineStatus.OPEN) -> QuerySet:
    rows = QuarantinedRecord.objects.select_related("system")
    if system:
        rows = rows.filter(system__code=system)
    if domain:
        rows = rows.filter(domain=domain)
    if status:
        rows = rows.filter(status=status)
    return rows


def match_runs(limit: int = 10) -> QuerySet[MatchRun]:
    return MatchRun.objects.all()[:limit]


# ------------------------------------------------------------------------------------------ dashboard
def duplicate_rates() -> list[dict[str, Any]]:
    """Per domain: source records, active golden records, and records per golden record."""
    out = []
    for domain in Domain.values:
        records = SourceRecord.objects.filter(domain=domain, golden__isnull=False).count()
        goldens = GoldenRecord.objects.filter(domain=domain, status=GoldenStatus.ACTIVE).count()
        out.append(
            {
                "domain": domain,
                "records": records,
                "goldens": goldens,
                "rate": round(records / goldens, 2) if goldens else None,
            }
        )
    return out


def backlog() -> dict[str, Any]:
    """Open review tasks and how long they have waited."""
    now = timezone.now()
    created = list(
        ReviewTask.objects.filter(status=ReviewTask.Status.OPEN).values_list("created_at", flat=True)
    )
    ages = sorted((now - c).total_seconds() / 3600 for c in created)
    return {
        "open": len(ages),
        "oldest_hours": round(ages[-1], 1) if ages else None,
        "median_hours": round(ages[len(ages) // 2], 1) if ages else None,
        "decided_7d": ReviewTask.objects.filter(decided_at__gte=now - dt.timedelta(days=7)).count(),
    }


def completeness() -> list[dict[str, Any]]:
    """Per domain and key attribute: the share of active golden records that have a value."""
    out = []
    for domain, names in KEY_ATTRIBUTES.items():
        goldens = GoldenRecord.objects.filter(domain=domain, status=GoldenStatus.ACTIVE)
        total = goldens.count()
        for name in names:
            having = goldens.filter(attributes__has_key=name).count() if total else 0
            out.append(
                {"domain": domain, "attribute": name, "share": round(100 * having / total) if total else None}
            )
    return out


def score_histogram(domain: str, bins: int = 24) -> dict[str, Any]:
    """A histogram of review-task match weights of `domain` with the two thresholds, ready to draw."""
    scores = list(ReviewTask.objects.filter(domain=domain).values_list("score", flat=True))
    limits = thresholds(domain) or (8.0, 2.0)
    low = min([*scores, limits[1] - 4.0])
    high = max([*scores, limits[0] + 4.0])
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for score in scores:
        counts[min(int((score - low) / step), bins - 1)] += 1
    width, height, pad = 480, 140, 20
    peak = max(counts) or 1
    bar_w = (width - 2 * pad) / bins

    def x(v: float) -> float:
        return round(pad + (v - low) / (high - low) * (width - 2 * pad), 1)

    bars = [
        {
            "x": round(pad + i * bar_w, 1),
            "w": round(bar_w - 1, 1),
            "h": round(c / peak * (height - 2 * pad), 1),
            "y": round(height - pad - c / peak * (height - 2 * pad), 1),
            "count": c,
            "from": round(low + i * step, 1),
        }
        for i, c in enumerate(counts)
    ]
    return {
        "domain": domain,
        "n": len(scores),
        "bars": bars,
        "width": width,
        "height": height,
        "base": height - pad,
        "upper": limits[0],
        "lower": limits[1],
        "upper_x": x(limits[0]),
        "lower_x": x(limits[1]),
        "low": round(low, 1),
        "high": round(high, 1),
    }


def connector_state() -> dict[str, Any]:
    """The last sync runs and the failed outbound deliveries of the connectors app (read-only)."""
    from connectors.choices import DeliveryStatus
    from connectors.models import Delivery, SyncRun

    runs = SyncRun.objects.select_related("connection__system").order_by("-created_at", "-id")[:30]
    failed = (
        Delivery.objects.filter(status__in=[DeliveryStatus.DEAD, DeliveryStatus.RETRYING])
        .select_related("connection", "event")
        .order_by("-updated_at")[:100]
    )
    return {"sync_runs": list(runs), "failed_deliveries": list(failed)}
