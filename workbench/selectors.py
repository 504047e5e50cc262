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
A page costs the same number of queries whatever it holds (``bench/queue_bench.py``). On PostgreSQL, without
a search term, the page and the count run as statements built by hand from parts compiled once per process,
the count travelling with the page and every kind's applications in one round trip (see "the same statements
built by hand" below); the ORM selects define them and serve searches and SQLite.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import operator
import re
from collections.abc import Callable
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
    return _queue(user, filters or QueueFilters()).rows(limit, cursor=after)


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


# --- the same statements built by hand (PostgreSQL) -----------------------------------------------------
#
# The ORM selects above define the queue; they serve a search and the embedded default (SQLite). Without a
# search term, on PostgreSQL, a page runs the same statements — the same WHERE, the same IN list of codes,
# ORDER BY/LIMIT inside each kind's branch, so the same plans and the same estimate — built as strings
# from parts that do not change between requests (each kind's ``review_q``, compiled once per process):
# Django compiling the count's and the page's five-branch UNIONs took longer than PostgreSQL took to run
# them (bench/README.md "Queues"). The header count travels with the page's statement, in one round trip.
# workbench/tests/test_queue_sql.py holds both ways to the same rows, counts and pages.

try:
    from psycopg import ClientCursor as _ClientCursor
except ImportError:  # pragma: no cover - the embedded default without psycopg
    _ClientCursor = None


def _fetch_all(statements: list[tuple[str, list]]) -> list[list[tuple]]:
    """The rows of each statement, sent in one round trip where the driver allows it (psycopg's client-side
    binding cursor, Django's default: the statements travel as one string, their results come back in turn),
    else one after another."""
    if not statements:
        return []
    with connection.cursor() as cursor:
        if len(statements) > 1 and _ClientCursor is not None and isinstance(getattr(cursor, "cursor", None),
                                                                            _ClientCursor):
            cursor.execute("; ".join(sql for sql, _params in statements),
                           [param for _sql, params in statements for param in params])
            results = [cursor.fetchall()]
            while cursor.nextset():
                results.append(cursor.fetchall())
            return results
        results = []
        for sql, params in statements:
            cursor.execute(sql, params)
            results.append(cursor.fetchall())
        return results


def _quoted(table: str, column: str) -> str:
    return f"{table}.{connection.ops.quote_name(column)}"


@functools.cache
def _open_where(kind: str) -> tuple[str, str, tuple]:
    """``kind``'s quoted table and the WHERE of its rows waiting for a bureau (``review_q``), with its params.

    Compiled by the ORM once per process and kept: it is made of the model's class constants alone
    (``REVIEW_STATES``, a transfer's type), which change only with the code, so it cannot go stale.
    """
    model = QUEUE_MODELS[kind]
    sql, params = model.objects.filter(model.review_q()).values("pk").query.sql_with_params()
    return connection.ops.quote_name(model._meta.db_table), f"({sql.split(' WHERE ', 1)[1]})", tuple(params)


@dataclass(frozen=True)
class _Branch:
    """One kind's open rows in the caller's scope, filtered: ``FROM table WHERE where`` (:func:`_kind_queryset`)."""

    kind: str
    table: str
    where: str
    params: tuple

    def after(self, cursor: QueueCursor, backwards: bool) -> tuple[str, list]:
        """:func:`_after` in SQL: this kind's rows after ``cursor`` in queue order (before it if ``backwards``)."""
        at, pk = _quoted(self.table, "submitted_at"), _quoted(self.table, QUEUE_MODELS[self.kind]._meta.pk.column)
        beyond = "<" if backwards else ">"
        if self.kind == cursor.kind:
            return (f"{at} {beyond}= %s AND ({at} {beyond} %s OR {pk} {beyond} %s)",
                    [cursor.submitted_at, cursor.submitted_at, cursor.pk])
        ties_follow = (self.kind > cursor.kind) != backwards  # rows at the cursor's moment come after it
        return f"{at} {beyond}{'=' if ties_follow else ''} %s", [cursor.submitted_at]


def _branches(codes: list[str] | None, filters: QueueFilters) -> list[_Branch]:
    """:func:`_parts` in SQL, for filters without a search term: the jurisdictions ``codes`` (None: the whole
    province, no condition; R-ACL-1), the status, overdue."""
    if codes == []:  # nothing in scope: no statement at all
        return []
    branches = []
    for kind in _kinds(filters):
        table, where, open_params = _open_where(kind)
        conditions, params = [where], list(open_params)
        if codes is not None:
            conditions.append(f"{_quoted(table, 'jurisdiction_id')} IN ({', '.join(['%s'] * len(codes))})")
            params += codes
        if filters.status:
            conditions.append(f"{_quoted(table, 'status')} = %s")
            params.append(filters.status)
        if filters.overdue:
            conditions.append(f"{_quoted(table, 'due_date')} < %s")
            params.append(timezone.localdate())
        branches.append(_Branch(kind, table, " AND ".join(conditions), tuple(params)))
    return branches


def _page_statement(branches: list[_Branch], limit: int, *, cursor: QueueCursor | None = None,
                    backwards: bool = False, offset: int = 0) -> tuple[str, list]:
    """:func:`_ordered`'s statement: the UNION ALL of each kind's branch, ordered and limited inside it."""
    way = "DESC" if backwards else "ASC"
    selects, params = [], []
    for branch in branches:
        where, branch_params = branch.where, list(branch.params)
        if cursor is not None:
            condition, more = branch.after(cursor, backwards)
            where, branch_params = f"{where} AND {condition}", branch_params + more
        pk = _quoted(branch.table, QUEUE_MODELS[branch.kind]._meta.pk.column)
        selects.append(f'SELECT %s AS "kind", {pk} AS "pk", {_quoted(branch.table, "submitted_at")} AS '  # noqa: S608
                       f'"submitted_at" FROM {branch.table} WHERE {where} ORDER BY 3 {way}, 2 {way}')
        params += [branch.kind, *branch_params]
    if len(selects) == 1:  # one kind (the kind filter): its own order is the queue's
        sql = f"{selects[0]} LIMIT {limit}"
    else:
        sql = (" UNION ALL ".join(f"({select} LIMIT {offset + limit})" for select in selects)
               + f" ORDER BY 3 {way}, 1 {way}, 2 {way} LIMIT {limit}")
    return (f"{sql} OFFSET {offset}" if offset else sql), params


# Two guesses kept per process. Each decides only what goes into a page's first round trip, never what the page
# shows, so neither can make a page stale or let a reviewer see another region's rows (R-ACL-1):
# - a city's subtree of region codes as last read (key: the city's path). The statement that reads the subtree
#   again travels in the same round trip as the count and the page built from the guess; if it no longer
#   matches (a region added or moved in the admin), the guess is replaced and the page built again from what
#   was read, before anything is returned. The region tree changes with GB/T 2260, not with requests.
# - whether a scope's backlog was last within reach of an exact count (key: codes and filters): then the
#   bounded count goes along with the estimate instead of after it; either way the figure follows
#   queue_count's rule on the rows of that moment.
_SUBTREE_CODES: dict[str, list[str]] = {}
_SMALL_BACKLOG: dict[tuple, bool] = {}
_SMALL_BACKLOG_KEPT = 4096


class _SqlQueue:
    """One caller's queue under one set of filters, in hand-built statements (PostgreSQL, no search term):
    the jurisdictions ``codes`` (None: the whole province; R-ACL-1) and ``filters``.

    The header count (:func:`queue_count`'s rule: PostgreSQL's estimate first, an exact count bounded at
    ``limit + 1`` rows when the estimate is not far above ``limit``) is read in the same round trip as the
    first rows asked for. The bounded count goes along with the estimate when the backlog is expected to be
    small (``speculate``; default: as it was last time for the same codes and filters, else for a single
    jurisdiction — a county), otherwise it follows only if the estimate calls for it. ``subtree``: the path
    whose subtree ``codes`` were guessed to be (:data:`_SUBTREE_CODES`), checked in the first round trip.
    """

    def __init__(self, codes: list[str] | None, filters: QueueFilters, *, limit: int = EXACT_COUNT_LIMIT,
                 speculate: bool | None = None, subtree: str | None = None):
        self.filters, self.limit, self._speculate = filters, limit, speculate
        self._count: tuple[int, bool] | None = None
        self._subtree = subtree
        self._use(codes)

    def _use(self, codes: list[str] | None) -> None:
        self.codes = codes
        self.branches = _branches(codes, self.filters)
        self._key = (None if codes is None else tuple(codes), tuple(_kinds(self.filters)), self.filters.status,
                     self.filters.overdue, self.limit)
        default = codes is not None and len(codes) == 1
        self.speculate = self._speculate if self._speculate is not None else _SMALL_BACKLOG.get(self._key, default)
        pks = [f'(SELECT {_quoted(b.table, QUEUE_MODELS[b.kind]._meta.pk.column)} AS "pk" '  # noqa: S608
               f"FROM {b.table} WHERE {b.where})" for b in self.branches]
        self._union = " UNION ALL ".join(pks), [param for branch in self.branches for param in branch.params]

    def _run(self, statements: Callable[[], list[tuple[str, list]]]) -> list[list[tuple]]:
        """The results of ``statements()``; while the subtree guess is unchecked, its check goes first, and a
        guess that no longer holds is replaced and the statements built and run again from the codes read."""
        if self._subtree is None:
            return _fetch_all(statements())
        path, self._subtree = self._subtree, None
        subtree = ('SELECT "code" FROM "accounts_region" WHERE "path"::text LIKE %s ORDER BY "code"',
                   [connection.ops.prep_for_like_query(path) + "%"])
        results = _fetch_all([subtree, *statements()])
        codes = [code for (code,) in results[0]]
        if codes == self.codes:
            return results[1:]
        _SUBTREE_CODES[path] = codes
        self._use(codes)
        return _fetch_all(statements())

    def _counting(self) -> list[tuple[str, list]]:
        """The estimate (EXPLAIN of the union); when speculating, the estimate and the bounded count from one
        statement instead: EXPLAIN ANALYZE of the bounded count, whose Limit node reports the rows it passed
        and whose node below it the union's estimate (the same as EXPLAIN of the union alone): PostgreSQL plans
        the five branches once for both, not twice."""
        union, params = self._union
        if self.speculate:
            return [(f"EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, FORMAT JSON) {self._bounded()[0]}", params)]
        return [(f"EXPLAIN (FORMAT JSON) {union}", params)]

    def _bounded(self) -> tuple[str, list]:
        union, params = self._union
        return f"SELECT COUNT(*) FROM ({union} LIMIT {self.limit + 1}) subquery", params  # noqa: S608

    def _counted(self, results: list[list[tuple]], analyzed: bool | None = None) -> tuple[int, bool]:
        """(rows, exact) from the results of :meth:`_counting` (``analyzed``: of its EXPLAIN ANALYZE)."""
        plan = results[0][0][0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        node = (plan[0] if isinstance(plan, list) else plan)["Plan"]
        counted = None
        if self.speculate if analyzed is None else analyzed:  # Aggregate → (Subquery Scan →) Limit → the union
            while node.get("Node Type") != "Limit" and node.get("Plans"):
                node = node["Plans"][0]
            if node.get("Node Type") != "Limit" or not node.get("Plans"):  # not the expected plan: ask plainly
                union, params = self._union
                return self._counted(_fetch_all([(f"EXPLAIN (FORMAT JSON) {union}", params)]), analyzed=False)
            counted = round(node["Actual Rows"] * node.get("Actual Loops", 1))
            node = node["Plans"][0]
        estimate = int(node["Plan Rows"])
        if len(_SMALL_BACKLOG) >= _SMALL_BACKLOG_KEPT:
            _SMALL_BACKLOG.clear()
        _SMALL_BACKLOG[self._key] = estimate <= 2 * self.limit
        if estimate > 2 * self.limit:
            return estimate, False
        if counted is None:
            counted = _fetch_all([self._bounded()])[0][0][0]
        if counted <= self.limit:
            return counted, True
        return max(estimate, self.limit + 1), False

    def count(self) -> tuple[int, bool]:
        if self._count is None:
            results = self._run(lambda: self._counting() if self.branches else [])
            self._count = self._counted(results) if self.branches else (0, True)
        return self._count

    def rows(self, limit: int, *, cursor: QueueCursor | None = None, backwards: bool = False, offset: int = 0,
             with_count: bool = False) -> list[dict]:
        counting = with_count and self._count is None

        def statements() -> list[tuple[str, list]]:
            if not self.branches:
                return []
            return ((self._counting() if counting else [])
                    + [_page_statement(self.branches, limit, cursor=cursor, backwards=backwards, offset=offset)])

        results = self._run(statements)
        if not self.branches:
            return []
        if counting:
            self._count = self._counted(results[:-1])
        rows = [{"kind": kind, "pk": pk, "submitted_at": at} for kind, pk, at in results[-1]]
        return rows[::-1] if backwards else rows


class _OrmQueue:
    """The same through the ORM selects: a search, or the embedded default (SQLite)."""

    def __init__(self, parts: list[tuple[str, QuerySet]]):
        self.parts = parts
        self._count: tuple[int, bool] | None = None

    def count(self) -> tuple[int, bool]:
        if self._count is None:
            self._count = queue_count(self.parts)
        return self._count

    def rows(self, limit: int, *, cursor: QueueCursor | None = None, backwards: bool = False, offset: int = 0,
             with_count: bool = False) -> list[dict]:
        return _ordered(self.parts, limit, cursor=cursor, backwards=backwards, offset=offset)


def _queue(user, filters: QueueFilters) -> _SqlQueue | _OrmQueue:
    if (filters.q.strip() or connection.vendor != "postgresql"
            or not connection.features.supports_slicing_ordering_in_compound):
        return _OrmQueue(_parts(user, filters))
    scope = region_scope(user)
    if scope is not None and scope.level == Region.Level.CITY and not filters.region:
        if scope.path in _SUBTREE_CODES:  # a guess, checked in the page's first round trip
            return _SqlQueue(_SUBTREE_CODES[scope.path], filters, subtree=scope.path)
        _SUBTREE_CODES[scope.path] = _scope_codes(user, filters)
        return _SqlQueue(_SUBTREE_CODES[scope.path], filters)
    return _SqlQueue(_scope_codes(user, filters), filters)


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
    queue = _queue(user, filters or QueueFilters())
    number = _page_number(page)
    start, end = QueueCursor.parse(after), QueueCursor.parse(before)
    if start is not None:
        rows = queue.rows(size + 1, cursor=start, with_count=True)
        has_next, has_previous = len(rows) > size, True
        rows = rows[:size]
        number = max(number, 2)
    elif end is not None and len(rows := queue.rows(size + 1, cursor=end, backwards=True, with_count=True)) > size:
        rows, has_previous, has_next = rows[-size:], True, True
    else:  # no cursor, or nothing before the one given: by number from the start
        number = 1 if end is not None else number
        # the first page does not depend on the count (read with it); a later one may be past the end
        first = queue.rows(size + 1, with_count=True) if number == 1 else None
        count, exact = queue.count()
        if exact and (number - 1) * size >= count:
            number = max(1, math.ceil(count / size))  # past the end: the last page, as Paginator.get_page
        rows = first if number == 1 and first is not None else queue.rows(size + 1, offset=(number - 1) * size)
        has_next, has_previous = len(rows) > size, number > 1
        rows = rows[:size]
    count, exact = queue.count()
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
# What a queue row reads (kjzx.workflow_views.workflow_rows, the days left, templates/workbench/queue.html, the
# Excel export) of an application (""), its archive or institution, besides their keys and the foreign keys
# the row follows; its regions are read whole. The rest stays deferred (never a sealed column it does not
# show). A field read that is missing here costs a query per row: tests/test_page_queries.py sees the page
# grow with its rows.
QUEUE_FIELDS = {
    "": ("submitted_at", "due_date", "step_started_on", "created_at", "status", "type", "person_id_number"),
    "archive": ("name", "id_number"),
    "institution": ("name",),
}


def _queue_deferred(model, related: tuple[str, ...]) -> list[str]:
    own = {field.name for field in model._meta.concrete_fields}
    return [name for name in QUEUE_DEFERRED if name in own or name.split("__")[0] in related]


@dataclass(frozen=True)
class _Loaded:
    """One model a queue row reads: the application (``above`` None) or one reached by the foreign key ``link``
    of the model at ``above``; its table ``alias`` and the concrete ``fields`` read, in the model's order."""

    model: type
    alias: str
    above: int | None
    link: object
    fields: tuple
    attnames: tuple[str, ...]
    cols: tuple  # each field as the expression the converters are given
    pk_at: int  # where the primary key is among the fields


@functools.cache
def _load_plan(kind: str) -> tuple[str, tuple[_Loaded, ...]]:
    """``SELECT … FROM … LEFT OUTER JOIN … WHERE pk IN`` of ``kind``'s applications with what their rows show
    (``QUEUE_RELATED``: the archive, the region and its parent; :data:`QUEUE_FIELDS`) and never a sealed column
    they do not show (:data:`QUEUE_DEFERRED`): what ``select_related(...).only(...)`` would read, without Django
    compiling it on every page. Built once per process from the models' metadata and those constants (code,
    not data: it cannot go stale)."""
    model = QUEUE_MODELS[kind]
    related = getattr(model, "QUEUE_RELATED", ("archive", "jurisdiction__parent"))
    deferred = set(_queue_deferred(model, related))
    quote = connection.ops.quote_name
    loaded: list[_Loaded] = []
    index: dict[tuple[str, ...], int] = {}
    joins = []

    links = {tuple(name.split("__"))[:depth] for name in related for depth in range(1, name.count("__") + 2)}

    def add(path: tuple[str, ...], node_model, above: int | None, link) -> _Loaded:
        wanted = QUEUE_FIELDS.get("__".join(path))
        fields = tuple(f for f in node_model._meta.concrete_fields
                       if "__".join((*path, f.name)) not in deferred
                       and (wanted is None or f.primary_key or f.name in wanted or (*path, f.name) in links))
        alias = f"q{len(loaded)}"
        index[path] = len(loaded)
        loaded.append(_Loaded(node_model, alias, above, link, fields, tuple(f.attname for f in fields),
                              tuple(f.get_col(alias) for f in fields), fields.index(node_model._meta.pk)))
        return loaded[-1]

    root = add((), model, None, None)
    for names in (tuple(name.split("__")) for name in related):
        for depth in range(1, len(names) + 1):
            if names[:depth] in index:
                continue
            above = loaded[index[names[:depth - 1]]]
            link = above.model._meta.get_field(names[depth - 1])
            node = add(names[:depth], link.related_model, index[names[:depth - 1]], link)
            joins.append(f"LEFT OUTER JOIN {quote(node.model._meta.db_table)} {node.alias} ON "
                         f"{node.alias}.{quote(link.target_field.column)} = {above.alias}.{quote(link.column)}")
    columns = ", ".join(f"{node.alias}.{quote(f.column)}" for node in loaded for f in node.fields)
    sql = (f"SELECT {columns} FROM {quote(model._meta.db_table)} {root.alias} {' '.join(joins)} "  # noqa: S608
           f"WHERE {root.alias}.{quote(model._meta.pk.column)} IN ")
    return sql, tuple(loaded)


def _load_objects(loaded: tuple[_Loaded, ...], found: list[tuple]) -> list[WorkflowModel]:
    """The applications of ``found`` (rows of :func:`_load_plan`'s statement) as model instances, each related
    object in its foreign key's cache — as Django's ``select_related`` builds them (``Model.from_db``, the
    fields' converters: the sealed ID number opened), the fields not read left deferred."""
    db = connection.alias
    readers = []  # per model: the (position, col, converters) of each field that has converters
    for node in loaded:
        converters = []
        for position, col in enumerate(node.cols):
            found_converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found_converters:
                converters.append((position, col, found_converters))
        readers.append(converters)
    objects = []
    shared: dict[tuple, object] = {}  # a related row read twice (the same region on every row of a county): one object
    for row in found:
        made: list = []
        start = 0
        for node, converters in zip(loaded, readers, strict=True):
            values = row[start:start + len(node.attnames)]
            start += len(node.attnames)
            above = made[node.above] if node.above is not None else None
            if node.above is not None and above is None:  # nothing above it to hang on
                made.append(None)
                continue
            obj = None
            if values[node.pk_at] is not None:  # a LEFT OUTER JOIN that found nothing: the cache holds None
                key = (node.model, node.attnames, values[node.pk_at])
                obj = shared.get(key) if node.above is not None else None
                if obj is None:
                    values = list(values)
                    for position, col, found_converters in converters:
                        for convert in found_converters:
                            values[position] = convert(values[position], col, connection)
                    obj = node.model.from_db(db, node.attnames, values)
                    if node.above is not None:
                        shared[key] = obj
            if node.link is not None:
                node.link.set_cached_value(above, obj)
                if obj is not None and node.link.unique:  # a one-to-one: its other side too
                    node.link.remote_field.set_cached_value(obj, above)
            made.append(obj)
        objects.append(made[0])
    return objects


def queue_page_objects(rows) -> list[WorkflowModel]:
    """The applications of one queue page, in queue order: one statement per kind, all in one round trip where
    the driver allows, whatever the page size."""
    by_kind: dict[str, list[int]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["pk"])
    statements = [(f"{_load_plan(kind)[0]}({', '.join(['%s'] * len(pks))})", pks) for kind, pks in by_kind.items()]
    loaded = {}
    for kind, found in zip(by_kind, _fetch_all(statements), strict=True):
        for obj in _load_objects(_load_plan(kind)[1], found):
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
