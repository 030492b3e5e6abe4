"""Console views: thin doors onto `stewardship.selectors` (reads) and `stewardship.services` (actions).

Every view checks the role on the server; every form posts with a CSRF token (Django's middleware).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_GET, require_POST

from matching.models import ReviewTask
from mdm.choices import Domain, QuarantineStatus
from mdm.golden import current
from mdm.models import GoldenRecord, SourceRecord, SourceSystem

from . import selectors, services
from .forms import BulkAcceptForm, MergeForm, MoveForm, PinForm, RejectForm, SplitForm, UnpinForm
from .masking import display_name, mask_attributes
from .roles import ADMIN, STEWARD, VIEWER, has_role, role_of

View = Callable[..., HttpResponse]


def role_required(minimum: str) -> Callable[[View], View]:
    """Sign-in for anonymous users, 403 for a role below `minimum`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("stewardship:login"))
            if not has_role(request.user, minimum):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    role = role_of(request.user)
    base = {"role": role, "can_decide": role in (STEWARD, ADMIN), "is_admin": role == ADMIN}
    return render(request, template, {**base, **context}, status=status)


def _masked(request: HttpRequest) -> bool:
    return role_of(request.user) == VIEWER


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("stewardship:queue")


# ------------------------------------------------------------------------------------------ review queue
@require_GET
@role_required(VIEWER)
def queue(request: HttpRequest) -> HttpResponse:
    flt = selectors.QueueFilter.from_query(request.GET)
    masked = _masked(request)
    tasks = selectors.queue_page(flt)
    rows = [
        {
            "task": t,
            "band": selectors.band_of(t.probability),
            "left_name": display_name(t.left.golden.name if t.left.golden else "", t.left.attributes, masked),
            "right_name": display_name(
                t.right.golden.name if t.right.golden else "", t.right.attributes, masked
            ),
        }
        for t in tasks
    ]
    context = {
        "flt": flt,
        "query": flt.as_query(),
        "rows": rows,
        "counts": selectors.queue_counts(flt),
        "domains": Domain.values,
        "bands": [b[0] for b in selectors.BANDS],
        "systems": SourceSystem.objects.values_list("code", flat=True),
        "bulk_form": BulkAcceptForm(initial={"domain": flt.domain}),
    }
    template = "stewardship/partials/queue_list.html" if _is_htmx(request) else "stewardship/queue.html"
    return _page(request, template, context)


def _survivors(task: ReviewTask, masked: bool) -> list[tuple[str, str]]:
    cards = []
    for record in (task.left, task.right):
        golden = current(record.golden_id) if record.golden_id else None
        if golden is not None and str(golden.pk) not in [c[0] for c in cards]:
            name = display_name(golden.name, golden.attributes, masked)
            cards.append((str(golden.pk), f"{name} — {golden.pk}"))
    return cards


@require_GET
@role_required(VIEWER)
def task(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(ReviewTask.objects.select_related("left__system", "right__system"), pk=pk)
    flt = selectors.QueueFilter.from_query(request.GET)
    masked = _masked(request)
    context = {
        **selectors.task_detail(task, masked),
        "query": flt.as_query(),
        "merge_form": MergeForm(survivors=_survivors(task, masked)),
        "reject_form": RejectForm(),
        "next": selectors.next_task(flt, after=task.pk),
    }
    return _page(request, "stewardship/task.html", context)


def _after_decision(request: HttpRequest, task_id: int) -> HttpResponse:
    """After an action the next task of the same queue opens (or the queue, when it is empty)."""
    flt = selectors.QueueFilter.from_query(request.GET)
    following = selectors.next_task(flt, after=task_id)
    suffix = f"?{flt.as_query()}" if flt.as_query() else ""
    if following is None:
        messages.info(request, "The queue is empty.")
        return redirect(reverse("stewardship:queue") + suffix)
    return redirect(reverse("stewardship:task", args=[following.pk]) + suffix)


@require_POST
@role_required(STEWARD)
def task_merge(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(ReviewTask, pk=pk)
    form = MergeForm(request.POST, survivors=_survivors(task, masked=False))
    if not form.is_valid():
        messages.error(request, f"Merge not done: {form.errors.as_text()}")
        return redirect("stewardship:task", pk=pk)
    try:
        survivor = services.task_merge(
            task_id=pk,
            user=request.user,
            survivor_id=form.cleaned_data["survivor"],
            reason=form.cleaned_data["reason"],
        )
    except services.StewardError as exc:
        messages.error(request, exc.message)
        return redirect("stewardship:task", pk=pk)
    messages.success(request, f"Merged into golden record {survivor.pk}.")
    return _after_decision(request, pk)


@require_POST
@role_required(STEWARD)
def task_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = RejectForm(request.POST)
    form.is_valid()
    try:
        services.task_reject(task_id=pk, user=request.user, reason=form.cleaned_data.get("reason", ""))
    except services.StewardError as exc:
        messages.error(request, exc.message)
        return redirect("stewardship:task", pk=pk)
    messages.success(request, "Marked not a match; it will not be proposed again.")
    return _after_decision(request, pk)


@require_POST
@role_required(STEWARD)
def bulk_accept(request: HttpRequest) -> HttpResponse:
    form = BulkAcceptForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Bulk accept not done: {form.errors.as_text()}")
        return redirect("stewardship:queue")
    merged = services.tasks_bulk_accept(
        user=request.user,
        reason=form.cleaned_data["reason"],
        domain=form.cleaned_data["domain"] or None,
        min_probability=form.cleaned_data["min_probability"],
    )
    messages.success(request, f"Accepted {len(merged)} task(s).")
    return redirect("stewardship:queue")


# ------------------------------------------------------------------------------------------ golden record
def _as_of(request: HttpRequest) -> dt.datetime | None:
    text = request.GET.get("as_of", "").strip()
    if not text:
        return None
    moment = parse_datetime(text)
    if moment is None and parse_date(text):
        day = parse_date(text)
        moment = dt.datetime(day.year, day.month, day.day, 23, 59, 59)
    if moment is None:
        raise Http404("as_of is not a date-time")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@require_GET
@role_required(VIEWER)
def golden(request: HttpRequest, pk: str) -> HttpResponse:
    found = current(pk)
    if found is None:
        raise Http404("No such golden record")
    if str(found.pk) != str(pk):
        messages.info(request, f"Golden record {pk} was merged into this one.")
        return redirect("stewardship:golden", pk=found.pk)
    as_of = _as_of(request)
    masked = _masked(request)
    shown = selectors.golden_as_of(found, as_of) if as_of else found
    if shown is None:
        raise Http404("The golden record did not exist yet at that moment")
    context = {
        "golden": found,
        "shown": shown,
        "as_of": as_of,
        "name": display_name(shown.name, shown.attributes, masked),
        "attributes": selectors.attribute_rows(shown, masked),
        "members": selectors.members(found, masked, as_of),
        "related": selectors.related(found, masked),
        "timeline": selectors.timeline(found, masked),
        "audit": selectors.audit_trail(found),
        "pin_form": PinForm(attributes=services.pinnable(found.domain)),
        "split_form": SplitForm(),
        "move_form": MoveForm(),
    }
    return _page(request, "stewardship/golden.html", context)


def _golden_action(request: HttpRequest, pk: str, action: Callable[[], Any], done: str) -> HttpResponse:
    try:
        result = action()
    except services.StewardError as exc:
        messages.error(request, exc.message)
        return redirect("stewardship:golden", pk=pk)
    messages.success(request, done)
    target = result.pk if isinstance(result, GoldenRecord) else pk
    return redirect("stewardship:golden", pk=target)


@require_POST
@role_required(STEWARD)
def golden_pin(request: HttpRequest, pk: str) -> HttpResponse:
    found = get_object_or_404(GoldenRecord, pk=pk)
    form = PinForm(request.POST, attributes=services.pinnable(found.domain))
    if not form.is_valid():
        messages.error(request, f"Pin not set: {form.errors.as_text()}")
        return redirect("stewardship:golden", pk=pk)
    data = form.cleaned_data
    return _golden_action(
        request,
        pk,
        lambda: services.golden_pin(
            golden_id=pk,
            attribute=data["attribute"],
            value=data["value"],
            user=request.user,
            reason=data["reason"],
        ),
        f"Pinned {data['attribute']}.",
    )


@require_POST
@role_required(STEWARD)
def golden_unpin(request: HttpRequest, pk: str) -> HttpResponse:
    form = UnpinForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unpin not done: no attribute given.")
        return redirect("stewardship:golden", pk=pk)
    data = form.cleaned_data
    return _golden_action(
        request,
        pk,
        lambda: services.golden_unpin(
            golden_id=pk, attribute=data["attribute"], user=request.user, reason=data["reason"]
        ),
        f"Unpinned {data['attribute']}.",
    )


@require_POST
@role_required(STEWARD)
def record_split(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(SourceRecord, pk=pk)
    back = record.golden_id
    form = SplitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A comment is required to split a record.")
        return redirect("stewardship:golden", pk=back)
    return _golden_action(
        request,
        back,
        lambda: services.record_split(record_id=pk, user=request.user, reason=form.cleaned_data["reason"]),
        "Split into a new golden record.",
    )


@require_POST
@role_required(STEWARD)
def record_move(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(SourceRecord, pk=pk)
    back = record.golden_id
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Move not done: {form.errors.as_text()}")
        return redirect("stewardship:golden", pk=back)
    data = form.cleaned_data
    return _golden_action(
        request,
        back,
        lambda: services.record_move(
            record_id=pk, target_id=data["target"], user=request.user, reason=data["reason"]
        ),
        "Moved the record.",
    )


# ------------------------------------------------------------------------------------------ search
@require_GET
@role_required(VIEWER)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    masked = _masked(request)
    results = [
        {"golden": g, "name": display_name(g.name, g.attributes, masked)} for g in selectors.search(query)
    ]
    template = "stewardship/partials/search_results.html" if _is_htmx(request) else "stewardship/search.html"
    return _page(request, template, {"q": query, "results": results})


# ------------------------------------------------------------------------------------------ sync monitor
@require_GET
@role_required(VIEWER)
def sync(request: HttpRequest) -> HttpResponse:
    system = request.GET.get("system", "")
    domain = request.GET.get("domain", "")
    status = request.GET.get("status", QuarantineStatus.OPEN)
    masked = _masked(request)
    rows = [
        {"q": q, "raw": mask_attributes(q.raw, masked)}
        for q in selectors.quarantine(system, domain, status)[:200]
    ]
    context = {
        "quarantine": rows,
        "system": system,
        "domain": domain,
        "status": status,
        "systems": SourceSystem.objects.values_list("code", flat=True),
        "domains": Domain.values,
        "statuses": QuarantineStatus.values,
        "runs": selectors.match_runs(),
        **selectors.connector_state(),
    }
    return _page(request, "stewardship/sync.html", context)


@require_POST
@role_required(STEWARD)
def quarantine_replay(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        outcome = services.quarantine_replay(quarantine_id=pk, user=request.user)
    except services.StewardError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Replayed: {outcome.outcome}.")
    return redirect("stewardship:sync")


@require_POST
@role_required(STEWARD)
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.delivery_replay(delivery_id=pk, user=request.user)
    except services.StewardError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Delivery {pk} is queued again.")
    return redirect("stewardship:sync")


# ------------------------------------------------------------------------------------------ dashboard
@require_GET
@role_required(VIEWER)
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "duplicates": selectors.duplicate_rates(),
        "backlog": selectors.backlog(),
        "completeness": selectors.completeness(),
        "histograms": [selectors.score_histogram(d) for d in (Domain.CUSTOMER, Domain.PRODUCT)],
        **selectors.connector_state(),
    }
    return _page(request, "stewardship/dashboard.html", context)
