"""The review queue over every kind (审核工作台), R-COL-4, R-DL-2, R-ACL-1; STYLE §5.

The open work of the caller's region — collections, changes, transfers, credit claims, institution
filings — oldest submission first, ordered by ``(submitted_at, kind, id)``. Each kind is one select on
its own partial indexes of open rows: ``(submitted_at, id)`` for the whole province and
``(jurisdiction, submitted_at, id)`` for a county or a city, which is filtered by the list of its
region codes (from :mod:`accounts.scoping`), not by a join on the region path. A page is one UNION
ALL of those selects, each already ordered and limited (the ORDER BY/LIMIT inside every branch: a
province page reads about twenty index entries per kind, not every open row), and continues after
the last row of the page before (keyset paging, :class:`QueueCursor`): page 50 costs what page 1
costs. The count behind the header is exact up to :data:`EXACT_COUNT_LIMIT` rows and otherwise
PostgreSQL's estimate (约…件): an exact count of a province-wide backlog costs more than the page.

:func:`queue_page` is the page, :func:`queue_rows` a batch of rows after a cursor (the Excel export
walks the queue with it), :func:`queue_page_rows` loads a page's applications with one query per kind.
A page costs the same number of queries whatever it holds (issue 14; ``bench/queue_bench.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Value
from django.db.models.fields import CharField
from django.utils import timezone

from accounts.models import Region
from accounts.scoping import region_scope, regions_visible_to
from cpe.models import CreditClaim, InstitutionFiling
from kjzx.workflow import WorkflowModel, annotate_days_left
from kjzx.workflow_views import WorkflowRow, workflow_rows
from records.models import Archive, ChangeRequest, CollectionApplication
from transfers.models import Transfer

# kind → model of every workflow whose open items sit in a bureau's queue, in the order the filters list them.
QUEUE_MODELS: dict[str, type[WorkflowModel]] = {
    model.KIND: model for model in (CollectionApplication, ChangeRequest, Transfer, CreditClaim, InstitutionFiling)}
PAGE_SIZE = 20
# Up to this many rows the header counts exactly (a bounded index-only count, ~a page's cost); beyond it,
# PostgreSQL's estimate (约…件).
EXACT_COUNT_LIMIT = 10_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class QueueFilters:
    kind: str = ""
    status: str = ""
    region: str = ""  # a region code inside the caller's scope: its subtree
    overdue: bool = False
    q: str = ""  # a name, an ID number or an application number


@dataclass(frozen=True)
class QueueCursor:
    """A row's place in the queue, ``(submitted_at, kind, pk)``: where the next or previous page starts.

    In URLs as ``<microseconds since 1970>.<kind>.<pk>``; anything else is no cursor (the first page).
    """

    submitted_at: dt.datetime
    kind: str
    pk: int

    @classmethod
    def of(cls, row: dict) -> QueueCursor:
        return cls(row["submitted_at"], row["kind"], row["pk"])

    @property
    def token(self) -> str:
        micros = (self.submitted_at - _EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}.{self.kind}.{self.pk}"

    @classmethod
    def parse(cls, token: str | None) -> QueueCursor | None:
        parts = (token or "").split(".")
        if len(parts) != 3 or parts[1] not in QUEUE_MODELS:
            return None
        try:
            moment = _EPOCH + dt.timedelta(microseconds=int(parts[0]))
            pk = int(parts[2])
        except (ValueError, OverflowError):
            return None
        return cls(moment, parts[1], pk) if pk > 0 else None


# --- the selects ---------------------------------------------------------------------------------

def _scope_codes(user, filters: QueueFilters) -> list[str] | None:
    """The jurisdictions to list: None for the whole province (no condition), else region codes (R-ACL-1).

    The caller's region comes from :func:`accounts.scoping.region_scope`, its subtree from
    :func:`~accounts.scoping.regions_visible_to`; a ``region`` filter outside it selects nothing.
    """
    scope = region_scope(user)
    if scope is None:
        return []
    visible = regions_visible_to(user)
    if filters.region:
        region = visible.filter(pk=filters.region).only("path").first()
        if region is None:
            return []
        if region.pk == scope.pk and scope.level == Region.Level.PROVINCE:
            return None
        visible = visible.filter(path__startswith=region.path)
    elif scope.level == Region.Level.PROVINCE:
        return None  # the whole province: as accounts.scoping.region_filter, no condition at all
    return list(visible.values_list("pk", flat=True))


def _kind_queryset(kind: str, model, codes: list[str] | None, filters: QueueFilters, today: dt.date) -> QuerySet:
    """One kind's open rows in scope, filtered; rows ``{"kind", "pk", "submitted_at"}``."""
    qs = model.objects.filter(model.review_q())
    if codes is not None:
        qs = qs.filter(jurisdiction_id__in=codes) if codes else qs.none()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(due_date__lt=today)
    if filters.q:
        q = filters.q.strip()
        pk = model.pk_from_number(q)
        by_number = Q(pk=pk) if pk else Q(pk__in=[])
        if any(f.name == "archive" for f in model._meta.fields):
            # the person first (two small index lookups), then their applications by the archive FK index
            people = Archive.objects.filter(Q(name=q) | Q(id_number=q.upper())).values("pk")
            qs = qs.filter(Q(archive_id__in=people) | by_number)
        else:  # an institution's filing: by its number only
            qs = qs.filter(by_number)
    return qs.annotate(kind=Value(kind, output_field=CharField())).values("kind", "pk", "submitted_at")


def _kinds(filters: QueueFilters) -> list[str]:
    return [filters.kind] if filters.kind in QUEUE_MODELS else list(QUEUE_MODELS)


def _parts(user, filters: QueueFilters) -> list[tuple[str, QuerySet]]:
    today = timezone.localdate()
    codes = _scope_codes(user, filters)
    return [(kind, _kind_queryset(kind, QUEUE_MODELS[kind], codes, filters, today)) for kind in _kinds(filters)]


def _after(kind: str, cursor: QueueCursor, backwards: bool) -> Q:
    """Rows of ``kind`` after ``cursor`` in queue order (before it if ``backwards``), as index conditions."""
    t, p = cursor.submitted_at, cursor.pk
    if not backwards:
        if kind > cursor.kind:
            return Q(submitted_at__gte=t)
        if kind < cursor.kind:
            return Q(submitted_at__gt=t)
        return Q(submitted_at__gte=t) & (Q(submitted_at__gt=t) | Q(pk__gt=p))
    if kind < cursor.kind:
        return Q(submitted_at__lte=t)
    if kind > cursor.kind:
        return Q(submitted_at__lt=t)
    return Q(submitted_at__lte=t) & (Q(submitted_at__lt=t) | Q(pk__lt=p))


def _ordered(parts: list[tuple[str, QuerySet]], limit: int, *, cursor: QueueCursor | None = None,
             backwards: bool = False, offset: int = 0) -> list[dict]:
    """The first ``limit`` rows (after ``offset``, after or before ``cursor``) of the union, in queue order."""
    order = ("-submitted_at", "-kind", "-pk") if backwards else ("submitted_at", "kind", "pk")
    branches = []
    for kind, qs in parts:
        if cursor is not None:
            qs = qs.filter(_after(kind, cursor, backwards))
        branches.append(qs.order_by(*(o for o in order if o.lstrip("-") != "kind"))[:offset + limit])
    union = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    rows = list(union.order_by(*order)[offset:offset + limit]) if len(branches) > 1 else list(union[offset:])
    return rows[::-1] if backwards else rows


def review_queue(user, filters: QueueFilters | None = None) -> QuerySet:
    """Rows ``{"kind", "pk", "submitted_at"}`` of all open work in the caller's region, oldest first (R-COL-4).

    The whole queue as one ordered query; pages use :func:`queue_page`, batches :func:`queue_rows`.
    """
    parts = _parts(user, filters or QueueFilters())
    querysets = [qs for _kind, qs in parts]
    union = querysets[0].union(*querysets[1:], all=True) if len(querysets) > 1 else querysets[0]
    return union.order_by("submitted_at", "kind", "pk")


def queue_rows(user, filters: QueueFilters | None = None, *, after: QueueCursor | None = None,
               limit: int = PAGE_SIZE) -> list[dict]:
    """The next ``limit`` rows of the queue after ``after`` (from the start if None), in queue order."""
    return _ordered(_parts(user, filters or QueueFilters()), limit, cursor=after)


# --- the page --------------------------------------------------------------------------------------

@dataclass
class QueuePage:
    """One page of the queue and what its pager needs (the shape templates/workbench/_queue_pager.html reads)."""

    rows: list[dict]
    number: int
    size: int
    count: int
    count_exact: bool
    has_next: bool
    has_previous: bool
    next_token: str = ""
    previous_token: str = ""
    object_list: list = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.size))

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return max(1, self.number - 1)


def queue_count(parts: list[tuple[str, QuerySet]], limit: int = EXACT_COUNT_LIMIT) -> tuple[int, bool]:
    """(rows, exact): an exact count if there are at most ``limit`` rows, else PostgreSQL's estimate."""
    querysets = [qs.values("pk") for _kind, qs in parts]
    union = querysets[0].union(*querysets[1:], all=True) if len(querysets) > 1 else querysets[0]
    counted = union[:limit + 1].count()  # stops after limit + 1 rows: bounded, index-only on the partial indexes
    if counted <= limit:
        return counted, True
    plan = json.loads(union.explain(format="json"))
    plan = plan[0] if isinstance(plan, list) else plan
    return max(int(plan["Plan"]["Plan Rows"]), limit + 1), False


def _page_number(value) -> int:
    try:
        return max(1, min(int(value), 1_000_000))
    except (TypeError, ValueError):
        return 1


def queue_page(user, filters: QueueFilters | None = None, *, page=None, after: str | None = None,
               before: str | None = None, size: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue: after the cursor ``after`` (the next-page link), before ``before`` (the
    previous-page link), or the ``page``-th from the start when no cursor is given (a typed URL: an
    OFFSET, correct but as slow as the pages before it). ``page`` is the number the pager shows."""
    parts = _parts(user, filters or QueueFilters())
    number = _page_number(page)
    count, exact = queue_count(parts)
    start, end = QueueCursor.parse(after), QueueCursor.parse(before)
    if start is not None:
        rows = _ordered(parts, size + 1, cursor=start)
        has_next, has_previous = len(rows) > size, True
        rows = rows[:size]
        number = max(number, 2)
    elif end is not None and len(rows := _ordered(parts, size + 1, cursor=end, backwards=True)) > size:
        rows, has_previous, has_next = rows[-size:], True, True
    else:  # no cursor, or nothing before the one given: by number from the start
        number = 1 if end is not None else number
        if exact and (number - 1) * size >= count:
            number = max(1, math.ceil(count / size))  # past the end: the last page, as Paginator.get_page
        rows = _ordered(parts, size + 1, offset=(number - 1) * size)
        has_next, has_previous = len(rows) > size, number > 1
        rows = rows[:size]
    if not has_previous:
        number = 1
    result = QueuePage(rows=rows, number=number, size=size, count=count, count_exact=exact, has_next=has_next,
                       has_previous=has_previous, object_list=rows)
    if rows:
        result.next_token = QueueCursor.of(rows[-1]).token
        result.previous_token = QueueCursor.of(rows[0]).token
    return result


def queue_page_objects(rows) -> list[WorkflowModel]:
    """The applications of one queue page, in queue order: one query per kind, whatever the page size."""
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["pk"])
    loaded = {}
    for kind, pks in by_kind.items():
        model = QUEUE_MODELS[kind]
        related = getattr(model, "QUEUE_RELATED", ("archive", "jurisdiction__parent"))
        for obj in model.objects.filter(pk__in=pks).select_related(*related):
            loaded[(kind, obj.pk)] = obj
    objects = [loaded[(row["kind"], row["pk"])] for row in rows if (row["kind"], row["pk"]) in loaded]
    return annotate_days_left(objects)


def queue_page_rows(rows) -> list[WorkflowRow]:
    """One page of the queue as table rows, each linking to its kind's reviewer page."""
    found = workflow_rows(queue_page_objects(rows))
    for row in found:
        row.url = row.obj.reviewer_url()
    return found


def queue_status_choices() -> list[tuple[str, str]]:
    """The statuses a queue can be filtered by, across kinds, without repeats."""
    seen: dict[str, str] = {}
    for model in QUEUE_MODELS.values():
        for value, label in model._meta.get_field("status").choices:
            if value in model.REVIEW_STATES and value not in seen:
                seen[value] = str(label)
    return list(seen.items())


def queue_region_choices(user) -> QuerySet[Region]:
    """The regions a reviewer may filter by: their own subtree."""
    return regions_visible_to(user).select_related("parent")
