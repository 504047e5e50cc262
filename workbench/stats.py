"""The figures of the dashboards (统计看板) and of API.md "Notifications and figures", issue 13.

**Rows.** A dashboard looks at one region (the caller's own, or one below it: the drill-down), and has a
row for that region's own units — its jurisdiction code alone: a county, a city's 市直, the province's
省直 — and one row per region directly below it, adding up that region's whole subtree ("晋城市（含所辖
县区）"). A county has one row. :func:`dashboard_scope` checks the region asked for lies inside the
caller's (R-ACL-1, through :mod:`accounts.scoping`); anything else is a 404.

**Review figures** (:func:`review_figures`), per row and per kind of the queue
(:data:`workbench.selectors.QUEUE_MODELS`):

- ``open``, by age since the last submission (calendar days), ``due_today`` and ``overdue`` (due date
  today / before today, R-DL-2): live counts of the applications waiting for a bureau, one grouped
  query per kind on the partial due-date and queue indexes;
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
people, credits or applications (``bench/records_bench.py``: under 200 ms for the province at a million).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter, defaultdict
from decimal import Decimal
from itertools import pairwise

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
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


def stat_regions(scope: Region) -> list[Region]:
    """The regions of the rows: ``scope``'s own units first, then each region directly below it."""
    if scope.level == Region.Level.COUNTY:
        return [scope]
    children = Region.objects.filter(Q(pk=scope.pk) | Q(parent=scope)).select_related("parent").order_by("code")
    return sorted(children, key=lambda region: (region.pk != scope.pk, region.pk))


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


def _inside(scope: Region, region_field: str) -> Q:
    if scope.level == Region.Level.PROVINCE:
        return Q()  # the whole province: no filter, no join
    return Q(**{f"{region_field}__path__startswith": scope.path})


def _code(scope: Region, key: str) -> str:
    return key or scope.pk


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


def _rows_of(scope: Region) -> dict[str, str]:
    """Every jurisdiction code inside ``scope`` → the code of its dashboard row (one query on the region tree)."""
    return {code: _code(scope, path[len(scope.path):len(scope.path) + 6])
            for code, path in Region.objects.filter(path__startswith=scope.path).values_list("code", "path")}


def _open_counts(scope: Region, cells, today: dt.date) -> None:
    """Live counts of the work waiting for a bureau, grouped by jurisdiction code (no join), per kind."""
    now = timezone.now()
    limits = [now - dt.timedelta(days=days) for days, _label in AGES if days is not None]
    rows_of = _rows_of(scope)
    inside = Q() if scope.level == Region.Level.PROVINCE else Q(jurisdiction_id__in=list(rows_of))
    for kind, model in QUEUE_MODELS.items():
        young = {f"age{i}": Count("pk", filter=Q(submitted_at__gte=limit)) for i, limit in enumerate(limits)}
        counts = (model.objects.filter(model.review_q(), inside, jurisdiction__isnull=False)
                  .values("jurisdiction_id")
                  .annotate(open=Count("pk"), due_today=Count("pk", filter=Q(due_date=today)),
                            overdue=Count("pk", filter=Q(due_date__lt=today)), **young).order_by())
        for found in counts:
            cell = cells.get((rows_of.get(found["jurisdiction_id"]), kind))
            if cell is None:
                continue
            cell.open += found["open"]
            cell.due_today += found["due_today"]
            cell.overdue += found["overdue"]
            younger = [found[f"age{i}"] for i in range(len(limits))]
            ages = [younger[0], *(b - a for a, b in pairwise(younger)), found["open"] - younger[-1]]
            cell.ages = [a + b for a, b in zip(cell.ages, ages, strict=True)]


def review_figures(user, code: str | None = None, today: dt.date | None = None) -> ReviewFigures:
    """The review figures of the region a dashboard looks at (see the module doc): a fixed 9 queries."""
    scope = dashboard_scope(user, code)
    today = today or timezone.localdate()
    regions = stat_regions(scope)
    allowed = allowed_working_days()
    cells = {(region.pk, kind): ReviewCell() for region in regions for kind in QUEUE_MODELS}
    _open_counts(scope, cells, today)
    this_month = month_of(today)
    window_from = _months_back(this_month, WINDOW_MONTHS - 1)
    first_month = min(window_from, today.year * 100 + 1)
    trend = {month: ReviewCell() for month in range(today.year * 100 + 1, this_month + 1)}
    tallies = (DecisionTally.objects.filter(_inside(scope, "region"), kind__in=list(QUEUE_MODELS),
                                            month__gte=first_month, month__lte=this_month)
               .annotate(k=_key(scope, "region")).values("k", "kind", "month", "days").annotate(n=Sum("count"))
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
    rows = []
    for region in regions:
        kinds = {kind: cells[(region.pk, kind)] for kind in QUEUE_MODELS}
        total = ReviewCell()
        for cell in kinds.values():
            total.add(cell)
        rows.append(ReviewRow(region, row_label(scope, region), region.pk == scope.pk, total, kinds))
    by_kind = {kind: ReviewCell() for kind in QUEUE_MODELS}
    for row in rows:
        for kind, cell in row.kinds.items():
            by_kind[kind].add(cell)
    grand = ReviewCell()
    for cell in by_kind.values():
        grand.add(cell)
    return ReviewFigures(scope, rows, by_kind, grand, sorted(trend.items()), window_from)


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


def cpe_figures(user, policy: CEYear, code: str | None = None, today: dt.date | None = None) -> CpeFigures:
    """The CE figures of one year for the region a dashboard looks at (see the module doc): 4 queries."""
    scope = dashboard_scope(user, code)
    today = today or timezone.localdate()
    regions = stat_regions(scope)
    cells = {region.pk: CpeCell() for region in regions}
    key = _key(scope, "region")
    forms = {form: Sum(form) for form in CreditForm.values}
    sums = (RegionCreditSummary.objects.filter(_inside(scope, "region"), year=policy).annotate(k=key).values("k")
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
        obliged = (RegionObligation.objects.filter(_inside(scope, "region"), start_year__lte=policy.year)
                   .annotate(k=key).values("k").annotate(n=Sum("people")).order_by())
        for found in obliged:
            cell = cells.get(_code(scope, found["k"]))
            if cell is not None:
                cell.obliged = found["n"] or 0
    rows = [CpeRow(region, row_label(scope, region), region.pk == scope.pk, cells[region.pk]) for region in regions]
    total = CpeCell()
    for row in rows:
        total.add(row.cell)
    months = _trend_months(policy, today)
    by_month = Counter()
    for month, completed in (RegionCompletionMonth.objects.filter(_inside(scope, "region"), year=policy)
                             .values("month").annotate(n=Sum("completed")).order_by().values_list("month", "n")):
        by_month[max(month, months[0]) if months else month] += completed or 0
    trend, running = [], 0
    for month in months:
        running += by_month.get(month, 0)
        trend.append((month, running))
    return CpeFigures(scope, policy, rows, total, trend)


def cpe_stats(user, policy: CEYear, code: str | None = None) -> list[CpeRow]:
    """API.md ``GET /api/v1/stats/cpe/{year}/``: the CE figures per row region."""
    return cpe_figures(user, policy, code).rows


def cpe_years():
    """The CE years a dashboard may show, newest first."""
    return CEYear.objects.order_by("-year")


def default_cpe_year(today: dt.date | None = None) -> int | None:
    """This year if its policy exists, else the newest year."""
    today = today or timezone.localdate()
    years = list(cpe_years().values_list("year", flat=True))
    if today.year in years:
        return today.year
    return years[0] if years else None


# --- the workbench's counts (landing) -----------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class WorkCounts:
    open: int
    due_today: int
    overdue: int


def work_counts(user, today: dt.date | None = None) -> WorkCounts | None:
    """待办, 今日到期, 逾期 of the caller's whole region (the workbench's head), or None for a non-reviewer."""
    scope = region_scope(user)
    if scope is None:
        return None
    today = today or timezone.localdate()
    totals: dict[str, int] = defaultdict(int)
    for model in QUEUE_MODELS.values():
        found = (model.objects.filter(model.review_q(), _inside(scope, "jurisdiction"), jurisdiction__isnull=False)
                 .aggregate(open=Count("pk"), due_today=Count("pk", filter=Q(due_date=today)),
                            overdue=Count("pk", filter=Q(due_date__lt=today))))
        for name, value in found.items():
            totals[name] += value or 0
    return WorkCounts(totals["open"], totals["due_today"], totals["overdue"])
