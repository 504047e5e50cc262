"""The figures of the dashboards (统计看板) and of API.md "Notifications and figures".

**Rows.** A dashboard looks at one region (the caller's own, or one below it: the drill-down), and has a
row for that region's own units — its jurisdiction code alone: a county, a city's 市直, the province's
省直 — and one row per region directly below it, adding up that region's whole subtree ("晋城市（含所辖
县区）"). A county has one row. :func:`dashboard_scope` checks the region asked for lies inside the
caller's (R-ACL-1, through :mod:`accounts.scoping`); anything else is a 404.

**Review figures** (:func:`review_figures`), per row and per kind of the queue
(:data:`workbench.selectors.QUEUE_MODELS`):

- ``open``, by age since the last submission (calendar days), ``due_today`` and ``overdue`` (due date
  today / before today, R-DL-2): live counts of the applications waiting for a bureau, one grouped
  select per kind, all in one UNION ALL, each answered from the kind's index of open rows on
  ``(jurisdiction, due_date, submitted_at)`` alone (``workbench/migrations/0002_open_counts_indexes.py``);
- ``on_time_rate`` and ``p90_working_days`` over the decisions of the last :data:`WINDOW_MONTHS` months
  (this month included): from the decision tallies (:mod:`workbench.tallies`), a histogram of
  handling times in working days from the last submission to the decision (R-DL-1). On time means
  within the sum of the kind's step deadlines (``StepDeadline``: 5 for a collection, origin +
  destination for a transfer); p90 is the nearest-rank 90th percentile of the histogram. Both are
  ``None`` when nothing was decided;
- a trend: decisions, on-time rate and p90 per month of this year.

**CE figures** (:func:`cpe_figures`) for one year, from the sums kept with the ledger
(:mod:`cpe.ledger.summaries`):

- an open year: ``obliged`` = active archives whose obligation started by that year (R-CE-1, the same
  condition as the year's close), ``completed`` = those of them whose year is complete (R-CE-3, the
  one rule :func:`cpe.ledger.selectors.is_complete`), credits by form = every credit of the year
  registered to an archive of the row's regions;
- a frozen year (R-CE-13): the credit-information file (``IntegrityRecord``) as it was frozen, each
  person counted in the region their archive is in today;
- a trend: people completed (cumulative) by the month they completed, January of the year onwards.

Every figure is a fixed number of queries on tables of a few thousand rows, whatever the number of
people, credits or applications; a page's figures share one read of the region tree (:func:`scope_rows`).
``bench/dashboard_bench.py`` times them at a million people (``docs/dashboards.md``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections import Counter
from decimal import Decimal
from itertools import pairwise

from django.db import connection
from django.db.models import CharField, F, Q, Sum, Value
from django.db.models.functions import Concat, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Region
from accounts.scoping import region_scope, regions_visible_to
from cpe.models import CEYear, CreditForm, RegionCompletionMonth, RegionCreditSummary, RegionObligation
from kjzx.deadlines import deadline_keys
from kjzx.models import StepDeadline
from workbench.models import DecisionTally
from workbench.selectors import QUEUE_MODELS
from workbench.tallies import month_of

WINDOW_MONTHS = 12  # decisions of the last twelve months (this one included) count towards on-time rate and p90
AGES = ((3, "3天内"), (10, "4–10天"), (30, "11–30天"), (None, "30天以上"))  # days since the last submission


# --- the rows' regions -------------------------------------------------------------------------

def require_scope(user) -> Region:
    scope = region_scope(user)
    if scope is None:
        raise PermissionError("not a reviewer")
    return scope


def dashboard_scope(user, code: str | None = None) -> Region:
    """The region a dashboard looks at: the caller's own, or ``code`` if it lies inside it (else 404)."""
    scope = require_scope(user)
    if not code or code == scope.pk:
        return scope
    region = regions_visible_to(user).filter(pk=str(code)[:6]).select_related("parent").first()
    if region is None:
        raise Http404(_("没有该属地，或不在您的管辖范围内。"))
    return region


@dataclasses.dataclass
class ScopeRows:
    """The region a dashboard looks at, the regions of its rows, and the row of every jurisdiction inside it."""

    scope: Region
    regions: list[Region]  # the scope's own units first, then each region directly below it (a county: itself)
    row_of: dict[str, str]  # every jurisdiction code inside the scope → the code of its row

    @property
    def codes(self) -> list[str] | None:
        """The jurisdiction codes to filter by; None for the whole province (no condition, as the queue)."""
        return None if self.scope.level == Region.Level.PROVINCE else list(self.row_of)

    def inside(self, field: str) -> Q:
        """``field`` (a jurisdiction code column) inside the scope: by the list of codes, no join."""
        codes = self.codes
        return Q() if codes is None else Q(**{f"{field}__in": codes})

    def row_key(self, field: str):
        """An expression of ``field`` (a jurisdiction code column) that is the code of its row, without a join on
        the region tree when the codes allow it: the code itself (the rows of a city or a county), or its first
        four digits and "00" (the province's rows are its cities, GB/T 2260); else from the region path."""
        if all(row == code for code, row in self.row_of.items()):
            return F(field)
        if all(row == code[:4] + "00" for code, row in self.row_of.items()):
            return Concat(Substr(field, 1, 4), Value("00"), output_field=CharField())
        return _key(self.scope, field.removesuffix("_id"))  # joins the region tree


def scope_rows(user, code: str | None = None) -> ScopeRows:
    """:func:`dashboard_scope` and its rows, from one query on the region tree (shared by a page's figures)."""
    scope = dashboard_scope(user, code)
    inside = Region.objects.filter(path__startswith=scope.path).select_related("parent")
    row_of, regions = {}, []
    for region in inside:
        row_of[region.pk] = _code(scope, region.path[len(scope.path):len(scope.path) + 6])
        if region.pk == scope.pk:
            regions.append(scope)
        elif region.parent_id == scope.pk and scope.level != Region.Level.COUNTY:
            regions.append(region)
    regions.sort(key=lambda region: (region.pk != scope.pk, region.pk))
    return ScopeRows(scope, regions, row_of)


def row_label(scope: Region, region: Region) -> str:
    """How a row names what it adds up: "晋城市市直" (own units only) versus "晋城市（含所辖县区）"."""
    if region.pk == scope.pk:
        return "省直" if region.level == Region.Level.PROVINCE else str(region.jurisdiction_label)
    if region.level == Region.Level.CITY:
        return _("%(name)s（含所辖县区）") % {"name": region.name}
    return region.full_name


def _key(scope: Region, region_field: str):
    """The code directly below ``scope`` on ``region_field``'s path; "" for ``scope``'s own code."""
    return Substr(f"{region_field}__path", len(scope.path) + 1, 6)


def _code(scope: Region, key: str) -> str:
    return key or scope.pk


# --- the open work of every kind, in SQL ------------------------------------------------------------

@functools.cache
def _open_from(kind: str) -> tuple[str, str, tuple]:
    """``kind``'s table and ``FROM … WHERE`` of its rows waiting for a bureau (``review_q``: constants only, so
    compiled by the ORM once per process, not on every count)."""
    model = QUEUE_MODELS[kind]
    sql, params = model.objects.filter(model.review_q()).values("pk").query.sql_with_params()
    from_where = sql.split(" FROM ", 1)[1]
    if " WHERE " not in from_where:
        from_where += " WHERE true"
    return connection.ops.quote_name(model._meta.db_table), from_where, tuple(params)


def _open_select(kind: str, columns: str, codes: list[str] | None, extra: str = "") -> tuple[str, list]:
    """``SELECT columns`` over ``kind``'s open rows in ``codes`` (None: the whole province, no condition) and
    ``extra`` (a condition on its columns, ``{t}`` the table); the queue's partial indexes answer it."""
    table, from_where, params = _open_from(kind)
    sql = f"SELECT {columns.format(t=table)} FROM {from_where} AND {table}.jurisdiction_id IS NOT NULL"  # noqa: S608
    params = list(params)
    if codes is not None and connection.vendor == "postgresql":
        sql += f" AND {table}.jurisdiction_id = ANY(%s)"
        params.append(codes)
    elif codes is not None:  # the embedded default (SQLite) binds no arrays
        sql += f" AND {table}.jurisdiction_id IN ({', '.join(['%s'] * len(codes)) or 'NULL'})"
        params.extend(codes)
    if extra:
        sql += f" AND {extra.format(t=table)}"
    return sql, params


def _union(selects: list[tuple[str, list]]) -> tuple[str, list]:
    # SQLite (the embedded default) takes no parenthesised parts in a compound statement; none has a LIMIT
    part = "({})" if connection.features.supports_parentheses_in_compound else "{}"
    return (" UNION ALL ".join(part.format(sql) for sql, _params in selects),
            [p for _sql, ps in selects for p in ps])


# --- review figures ----------------------------------------------------------------------------

def p90(histogram: Counter) -> int | None:
    """Nearest-rank 90th percentile of a histogram {working days: decisions}."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(math.ceil(0.9 * total), 1), 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return days
    return None  # unreachable


@dataclasses.dataclass
class ReviewCell:
    """The review figures of one row (a region, a kind, a month, or their sum)."""

    open: int = 0
    due_today: int = 0
    overdue: int = 0
    ages: list[int] = dataclasses.field(default_factory=lambda: [0] * len(AGES))
    on_time: int = 0
    histogram: Counter = dataclasses.field(default_factory=Counter)

    @property
    def decided(self) -> int:
        return sum(self.histogram.values())

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.decided, 4) if self.decided else None

    @property
    def p90_working_days(self) -> int | None:
        return p90(self.histogram)

    @property
    def is_zero(self) -> bool:
        return not (self.open or self.decided)

    def add(self, other: ReviewCell) -> ReviewCell:
        self.open += other.open
        self.due_today += other.due_today
        self.overdue += other.overdue
        self.ages = [a + b for a, b in zip(self.ages, other.ages, strict=True)]
        self.on_time += other.on_time
        self.histogram.update(other.histogram)
        return self


@dataclasses.dataclass
class ReviewRow:
    """One region's review figures: the sum over kinds, and each kind's."""

    region: Region
    label: str
    own: bool  # the scope's own units, not a subtree
    total: ReviewCell
    kinds: dict[str, ReviewCell]


@dataclasses.dataclass
class ReviewFigures:
    scope: Region
    rows: list[ReviewRow]
    kinds: dict[str, ReviewCell]  # the whole scope, per kind
    total: ReviewCell
    trend: list[tuple[int, ReviewCell]]  # (yyyymm, decisions of that month), this year
    window_from: int  # yyyymm: on-time rate and p90 count decisions from this month on


def allowed_working_days() -> dict[str, int]:
    """kind → the working days of all the steps its transitions start, from one query."""
    keys = {kind: deadline_keys(model) for kind, model in QUEUE_MODELS.items()}
    days = dict(StepDeadline.objects.filter(key__in={k for ks in keys.values() for k in ks})
                .values_list("key", "working_days"))
    return {kind: sum(days.get(key, 0) for key in ks) for kind, ks in keys.items()}


def _months_back(month: int, n: int) -> int:
    index = (month // 100) * 12 + month % 100 - 1 - n
    return (index // 12) * 100 + index % 12 + 1


def _open_counts(rows: ScopeRows, cells, today: dt.date) -> None:
    """Live counts of the work waiting for a bureau, grouped by jurisdiction code (no join): one select per kind
    on its open rows, all kinds in one UNION ALL (one round trip)."""
    now = timezone.now()
    limits = [now - dt.timedelta(days=days) for days, _label in AGES if days is not None]
    kinds = list(QUEUE_MODELS)
    ages = "".join(", COUNT(*) FILTER (WHERE {t}.submitted_at >= %s)" for _limit in limits)
    selects = []
    for index, kind in enumerate(kinds):
        sql, params = _open_select(kind, f"{index}, {{t}}.jurisdiction_id, COUNT(*), "
                                   f"COUNT(*) FILTER (WHERE {{t}}.due_date = %s), "
                                   f"COUNT(*) FILTER (WHERE {{t}}.due_date < %s){ages}", rows.codes)
        selects.append((sql + " GROUP BY 2", [today, today, *limits, *params]))
    sql, params = _union(selects)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    for index, jurisdiction, open_, due_today, overdue, *younger in found:
        cell = cells.get((rows.row_of.get(jurisdiction), kinds[index]))
        if cell is None:
            continue
        cell.open += open_
        cell.due_today += due_today
        cell.overdue += overdue
        ages_of = [younger[0], *(b - a for a, b in pairwise(younger)), open_ - younger[-1]]
        cell.ages = [a + b for a, b in zip(cell.ages, ages_of, strict=True)]


def review_figures(user, code: str | None = None, today: dt.date | None = None, *,
                   rows: ScopeRows | None = None) -> ReviewFigures:
    """The review figures of the region a dashboard looks at (see the module doc): a fixed 4 queries (the
    region tree unless ``rows`` is given, the step deadlines, the open counts, the tallies)."""
    rows = rows or scope_rows(user, code)
    scope, regions = rows.scope, rows.regions
    today = today or timezone.localdate()
    allowed = allowed_working_days()
    cells = {(region.pk, kind): ReviewCell() for region in regions for kind in QUEUE_MODELS}
    _open_counts(rows, cells, today)
    this_month = month_of(today)
    window_from = _months_back(this_month, WINDOW_MONTHS - 1)
    first_month = min(window_from, today.year * 100 + 1)
    trend = {month: ReviewCell() for month in range(today.year * 100 + 1, this_month + 1)}
    tallies = (DecisionTally.objects.filter(rows.inside("region_id"), kind__in=list(QUEUE_MODELS),
                                            month__gte=first_month, month__lte=this_month)
               .annotate(k=rows.row_key("region_id")).values("k", "kind", "month", "days").annotate(n=Sum("count"))
               .order_by())
    for found in tallies:  # one read for the window's figures and this year's trend
        n = found["n"] or 0
        on_time = n if found["days"] <= allowed[found["kind"]] else 0
        cell = cells.get((_code(scope, found["k"]), found["kind"]))
        if cell is not None and found["month"] >= window_from:
            cell.histogram[found["days"]] += n
            cell.on_time += on_time
        month = trend.get(found["month"])
        if month is not None:
            month.histogram[found["days"]] += n
            month.on_time += on_time
    found_rows = []
    for region in regions:
        kinds = {kind: cells[(region.pk, kind)] for kind in QUEUE_MODELS}
        total = ReviewCell()
        for cell in kinds.values():
            total.add(cell)
        found_rows.append(ReviewRow(region, row_label(scope, region), region.pk == scope.pk, total, kinds))
    by_kind = {kind: ReviewCell() for kind in QUEUE_MODELS}
    for row in found_rows:
        for kind, cell in row.kinds.items():
            by_kind[kind].add(cell)
    grand = ReviewCell()
    for cell in by_kind.values():
        grand.add(cell)
    return ReviewFigures(scope, found_rows, by_kind, grand, sorted(trend.items()), window_from)


@dataclasses.dataclass
class ApiReviewRow:
    """API.md: one row per region below the caller and kind."""

    region: Region
    kind: str
    cell: ReviewCell

    def as_dict(self) -> dict:
        cell = self.cell
        return {"region": self.region.pk, "kind": self.kind, "open": cell.open, "due_today": cell.due_today,
                "overdue": cell.overdue, "on_time_rate": cell.on_time_rate,
                "p90_working_days": cell.p90_working_days}


def review_stats(user, code: str | None = None, today: dt.date | None = None) -> list[ApiReviewRow]:
    """API.md ``GET /api/v1/stats/reviews/``: the figures per row region and kind."""
    figures = review_figures(user, code, today)
    return [ApiReviewRow(row.region, kind, cell) for row in figures.rows for kind, cell in row.kinds.items()]


# --- CE figures --------------------------------------------------------------------------------

@dataclasses.dataclass
class CpeCell:
    obliged: int = 0
    completed: int = 0
    credits_by_form: dict[str, Decimal] = dataclasses.field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return round(self.completed / self.obliged, 4) if self.obliged else None

    @property
    def credits(self) -> Decimal:
        return sum(self.credits_by_form.values(), Decimal(0))

    @property
    def is_zero(self) -> bool:
        return not (self.obliged or self.completed or self.credits)

    def add(self, other: CpeCell) -> CpeCell:
        self.obliged += other.obliged
        self.completed += other.completed
        for form, value in other.credits_by_form.items():
            self.credits_by_form[form] = self.credits_by_form.get(form, Decimal(0)) + value
        return self


@dataclasses.dataclass
class CpeRow:
    region: Region
    label: str
    own: bool
    cell: CpeCell

    def as_dict(self) -> dict:
        cell = self.cell
        return {"region": self.region.pk, "obliged": cell.obliged, "completed": cell.completed, "rate": cell.rate,
                "credits_by_form": {form: str(value) for form, value in cell.credits_by_form.items()}}


@dataclasses.dataclass
class CpeFigures:
    scope: Region
    policy: CEYear
    rows: list[CpeRow]
    total: CpeCell
    trend: list[tuple[int, int]]  # (yyyymm, obliged people completed by the end of that month)


def _trend_months(policy: CEYear, today: dt.date) -> list[int]:
    last = min(month_of(today), month_of(policy.registration_closes_on))
    months, month = [], policy.year * 100 + 1
    while month <= last:
        months.append(month)
        month = month + 1 if month % 100 < 12 else (month // 100 + 1) * 100 + 1
    return months


def cpe_figures(user, policy: CEYear, code: str | None = None, today: dt.date | None = None, *,
                rows: ScopeRows | None = None) -> CpeFigures:
    """The CE figures of one year for the region a dashboard looks at (see the module doc): 4 queries (3 with
    ``rows``)."""
    rows = rows or scope_rows(user, code)
    scope, regions = rows.scope, rows.regions
    today = today or timezone.localdate()
    cells = {region.pk: CpeCell() for region in regions}
    key = rows.row_key("region_id")
    forms = {form: Sum(form) for form in CreditForm.values}
    sums = (RegionCreditSummary.objects.filter(rows.inside("region_id"), year=policy).annotate(k=key).values("k")
            .annotate(obliged=Sum("obliged"), completed=Sum("completed"), **forms).order_by())
    for found in sums:
        cell = cells.get(_code(scope, found["k"]))
        if cell is None:
            continue
        cell.completed = found["completed"] or 0
        cell.obliged = found["obliged"] or 0  # a frozen year: the credit-information file's records
        cell.credits_by_form = {form: found[form] for form in CreditForm.values if found[form]}
    if not policy.is_frozen:  # an open year: every active archive whose obligation started (R-CE-1)
        for cell in cells.values():
            cell.obliged = 0
        obliged = (RegionObligation.objects.filter(rows.inside("region_id"), start_year__lte=policy.year)
                   .annotate(k=key).values("k").annotate(n=Sum("people")).order_by())
        for found in obliged:
            cell = cells.get(_code(scope, found["k"]))
            if cell is not None:
                cell.obliged = found["n"] or 0
    found_rows = [CpeRow(region, row_label(scope, region), region.pk == scope.pk, cells[region.pk])
                  for region in regions]
    total = CpeCell()
    for row in found_rows:
        total.add(row.cell)
    months = _trend_months(policy, today)
    by_month = Counter()
    for month, completed in (RegionCompletionMonth.objects.filter(rows.inside("region_id"), year=policy)
                             .values("month").annotate(n=Sum("completed")).order_by().values_list("month", "n")):
        by_month[max(month, months[0]) if months else month] += completed or 0
    trend, running = [], 0
    for month in months:
        running += by_month.get(month, 0)
        trend.append((month, running))
    return CpeFigures(scope, policy, found_rows, total, trend)


def cpe_stats(user, policy: CEYear, code: str | None = None) -> list[CpeRow]:
    """API.md ``GET /api/v1/stats/cpe/{year}/``: the CE figures per row region."""
    return cpe_figures(user, policy, code).rows


def cpe_years():
    """The CE years a dashboard may show, newest first."""
    return CEYear.objects.order_by("-year")


def default_cpe_year(today: dt.date | None = None, years: list[int] | None = None) -> int | None:
    """This year if its policy exists, else the newest year (of ``years``, newest first, if given)."""
    today = today or timezone.localdate()
    years = list(cpe_years().values_list("year", flat=True)) if years is None else years
    if today.year in years:
        return today.year
    return years[0] if years else None


# --- the workbench's counts (landing) -----------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class WorkCounts:
    open: int
    due_today: int
    overdue: int


def _count_open(codes: list[str] | None, extra: str = "", params: tuple = ()) -> int:
    """Open work of every kind in ``codes`` (None: the whole province) matching ``extra`` (a condition on the
    kind's columns, ``{t}`` its table): one query, a UNION ALL of one index-driven select per kind (the partial
    indexes on open states: ``(submitted_at, id)`` for the province, ``(jurisdiction, submitted_at, id)`` for a
    list of region codes, ``(due_date)``)."""
    sql, all_params = _union([(sql, [*kind_params, *params]) for sql, kind_params in
                               (_open_select(kind, "1", codes, extra) for kind in QUEUE_MODELS)])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS open_work", all_params)  # noqa: S608
        return cursor.fetchone()[0]


def work_counts(user, today: dt.date | None = None) -> WorkCounts | None:
    """待办, 今日到期, 逾期 of the caller's whole region (the workbench's head), or None for a non-reviewer.

    Each count is one query (:func:`_count_open`); due today and overdue as the queue's due marks read them
    (R-DL-2, :func:`kjzx.workflow.due_state`): due today only on the date itself, overdue once it has passed,
    whatever kind of day today is."""
    scope = region_scope(user)
    if scope is None:
        return None
    today = today or timezone.localdate()
    codes = (None if scope.level == Region.Level.PROVINCE  # as the queue: no condition for the province
             else list(regions_visible_to(user).values_list("pk", flat=True)))
    return WorkCounts(open=_count_open(codes), due_today=_count_open(codes, "{t}.due_date = %s", (today,)),
                      overdue=_count_open(codes, "{t}.due_date < %s", (today,)))
