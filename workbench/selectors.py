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
A page costs the same number of queries whatever it holds (``bench/queue_bench.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import operator
import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.fields import CharField
from django.utils import timezone

from accounts.models import Region
from accounts.scoping import region_scope, regions_visible_to
from cpe.models import CreditClaim, InstitutionFiling
from kjzx import crypto
from kjzx.workflow import WorkflowModel, annotate_days_left
from kjzx.workflow_views import WorkflowRow, workflow_rows
from records.models import Archive, ChangeRequest, CollectionApplication
from transfers.models import Transfer

# kind → model of every workflow whose open items sit in a bureau's queue, in the order the filters list them.
QUEUE_MODELS: dict[str, type[WorkflowModel]] = {
    model.KIND: model for model in (CollectionApplication, ChangeRequest, Transfer, CreditClaim, InstitutionFiling)}
PAGE_SIZE = 20
# Up to this many rows the header counts exactly (a bounded index-only count of 2,001 entries: about a page's
# cost); beyond it, PostgreSQL's estimate (约…件). A county's backlog is counted, a city's or the province's
# estimated (bench/README.md: counting 10,000 entries cost more than the page).
EXACT_COUNT_LIMIT = 2_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class QueueFilters:
    kind: str = ""
    status: str = ""
    region: str = ""  # a region code inside the caller's scope: its subtree
    overdue: bool = False
    q: str = ""  # a name, an application number, an ID number or its last four or more characters


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
    elif scope.level == Region.Level.COUNTY:
        return [scope.pk]  # a county has no region below it: its own code, no query
    return list(visible.values_list("pk", flat=True))


# --- the search (姓名/申请编号/证件号码或其后4位以上) ---------------------------------------------------

TAIL = re.compile(r"[0-9X]{4,30}")
TAIL_CANDIDATES_MAX = 5000  # a last-four hash shared by more rows than this in one scope: search no further


@dataclass(frozen=True)
class SearchMatch:
    """Who a search term names, found once per page: archives (by name, whole number or trailing
    characters) and transfers by their own person's number (an inbound person may have no archive yet)."""

    archive_pks: tuple[int, ...] = ()
    transfer_pks: tuple[int, ...] = ()


def _tail_matches(model, number_field: str, tail_hash_field: str, term: str, scope: Q) -> list[int]:
    """Rows of ``model`` in ``scope`` whose number ends with ``term``: by the keyed hash of its last four
    characters (an index), then each candidate's number opened and compared (a handful of rows)."""
    candidates = (model.objects.filter(scope, **{tail_hash_field: crypto.id_last4_hash(term)})
                  .values_list("pk", number_field)[:TAIL_CANDIDATES_MAX])
    return [pk for pk, number in candidates if crypto.normalise_number(number).endswith(term)]


def search_match(q: str, codes: list[str] | None) -> SearchMatch:
    """What ``q`` names among the archives and transfers of the jurisdictions ``codes`` (None: the province).

    A name or a whole ID number is an exact match (the number through its keyed hash: it is stored
    sealed); four or more trailing digits (what a clerk on the phone types) match by the keyed hash of
    the last four, scoped to the caller's regions first (a transfer by its own person's number, for its
    destination), then compared in clear on those few rows.
    """
    term = crypto.normalise_number(q)
    in_scope = Q() if codes is None else Q(jurisdiction_id__in=codes)
    # exact: two narrow index lookups, not scoped here (a transfer's destination reviewer finds the person
    # whose archive is still in the origin's region); the queue's own scope applies to the applications
    archives = set(Archive.objects.filter(Q(name=q) | Q(id_number=term)).values_list("pk", flat=True))
    transfers: set[int] = set()
    if TAIL.fullmatch(term):
        archives.update(_tail_matches(Archive, "id_number", "id_last4_hash", term, in_scope))
        transfers.update(_tail_matches(Transfer, "person_id_number", "person_id_last4_hash", term, in_scope))
    return SearchMatch(tuple(sorted(archives)), tuple(sorted(transfers)))


def _search_q(model, filters: QueueFilters, match: SearchMatch | None) -> Q | None:
    """The rows of ``model`` the search names; None when it names none (the kind is left out)."""
    pk = model.pk_from_number(filters.q.strip())
    found = [Q(pk=pk)] if pk else []
    if match is not None and match.archive_pks and any(f.name == "archive" for f in model._meta.fields):
        found.append(Q(archive_id__in=match.archive_pks))  # the person's applications, by the archive FK
    if match is not None and match.transfer_pks and model is Transfer:
        found.append(Q(pk__in=match.transfer_pks))
    return functools.reduce(operator.or_, found) if found else None


def _kind_queryset(kind: str, model, codes: list[str] | None, filters: QueueFilters, today: dt.date,
                   match: SearchMatch | None = None) -> QuerySet:
    """One kind's open rows in scope, filtered; rows ``{"kind", "pk", "submitted_at"}``."""
    qs = model.objects.filter(model.review_q())
    if codes is not None:
        qs = qs.filter(jurisdiction_id__in=codes) if codes else qs.none()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(due_date__lt=today)
    if filters.q.strip():  # an institution's filing matches by its number only
        found = _search_q(model, filters, match)
        qs = qs.filter(found) if found is not None else qs.none()
    return qs.annotate(kind=Value(kind, output_field=CharField())).values("kind", "pk", "submitted_at")


def _kinds(filters: QueueFilters) -> list[str]:
    return [filters.kind] if filters.kind in QUEUE_MODELS else list(QUEUE_MODELS)


def _parts(user, filters: QueueFilters) -> list[tuple[str, QuerySet]]:
    today = timezone.localdate()
    codes = _scope_codes(user, filters)
    match = search_match(filters.q.strip(), codes) if filters.q.strip() and codes != [] else None
    return [(kind, _kind_queryset(kind, QUEUE_MODELS[kind], codes, filters, today, match))
            for kind in _kinds(filters)]


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
    parts = [(kind, qs) for kind, qs in parts if not qs.query.is_empty()]  # kinds a search left out
    if not parts:
        return []
    order = ("-submitted_at", "-kind", "-pk") if backwards else ("submitted_at", "kind", "pk")
    branches = []
    for kind, qs in parts:
        if cursor is not None:
            qs = qs.filter(_after(kind, cursor, backwards))
        branch = qs.order_by(*(o for o in order if o.lstrip("-") != "kind"))
        # ORDER BY/LIMIT inside each branch (PostgreSQL: each branch reads only its first rows off its
        # index); SQLite, the embedded default, allows neither in a compound statement's parts
        branches.append(branch[:offset + limit] if connection.features.supports_slicing_ordering_in_compound
                        else qs.order_by())
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
    """(rows, exact): an exact count if there are at most ``limit`` rows, else PostgreSQL's estimate.

    The estimate comes first (one EXPLAIN: no row read): far above ``limit`` — a province's backlog —
    it is the answer, and the exact count (which would read ``limit`` index entries, more than the page
    costs) is skipped; otherwise the count is exact, bounded at ``limit + 1`` rows whatever the estimate.
    """
    parts = [(kind, qs) for kind, qs in parts if not qs.query.is_empty()]  # kinds a search left out
    if not parts:  # a search that names nobody: no SQL to run
        return 0, True
    querysets = [qs.values("pk") for _kind, qs in parts]
    union = querysets[0].union(*querysets[1:], all=True) if len(querysets) > 1 else querysets[0]
    estimate = None
    if connection.vendor == "postgresql":
        plan = json.loads(union.explain(format="json"))
        plan = plan[0] if isinstance(plan, list) else plan
        estimate = int(plan["Plan"]["Plan Rows"])
        if estimate > 2 * limit:
            return estimate, False
    counted = union[:limit + 1].count()  # stops after limit + 1 rows: bounded, index-only on the partial indexes
    if counted <= limit:
        return counted, True
    return max(estimate or 0, limit + 1), False


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


# Sealed columns a queue row never shows (kjzx.fields): loading one costs a decryption per row.
QUEUE_DEFERRED = ("new_values", "old_values", "person_record", "archive__mobile")


def _queue_deferred(model, related: tuple[str, ...]) -> list[str]:
    own = {field.name for field in model._meta.concrete_fields}
    return [name for name in QUEUE_DEFERRED if name in own or name.split("__")[0] in related]


def queue_page_objects(rows) -> list[WorkflowModel]:
    """The applications of one queue page, in queue order: one query per kind, whatever the page size."""
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["pk"])
    loaded = {}
    for kind, pks in by_kind.items():
        model = QUEUE_MODELS[kind]
        related = getattr(model, "QUEUE_RELATED", ("archive", "jurisdiction__parent"))
        deferred = _queue_deferred(model, related)
        for obj in model.objects.filter(pk__in=pks).select_related(*related).defer(*deferred):
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
