"""The figures of the reviewers' dashboard (统计看板) and of API.md "Notifications and figures".

Both tables have one row per region directly below the caller's (and, for the review table, per kind):

- a county reviewer: their county only;
- a city reviewer: the city's own code (市直, units managed by the city itself) plus each county;
- provincial staff: 140000 (省直) plus each city, a city's row aggregating its whole subtree.

Every figure is set-based: a region's row is a GROUP BY on the first code of the jurisdiction's ``path``
below the caller's region (``Substr(path, len(scope.path) + 1, 6)``; empty for the caller's own code),
so the number of queries does not depend on how many people or applications there are.

Review figures (:func:`review_stats`), for each kind of :data:`records.selectors.QUEUE_MODELS`:

- ``open``: waiting for a bureau now (``model.review_q()``); ``due_today`` / ``overdue``: of those, the
  due date is today / before today (R-DL-2).
- ``on_time_rate`` and ``p90_working_days`` are computed over the items *decided* (``decided_at`` set,
  an applicant's withdrawal excluded) in the last :data:`WINDOW_DAYS` days, at most the latest
  :data:`DECIDED_CAP` per region and kind (a window function in the query: bounded memory whatever the
  province's size). Working days (R-DL-1, :mod:`kjzx.workdays`) run from the last submission
  (``submitted_at``) to the decision. An item is on time when that is at most the sum of the kind's
  step deadlines (``StepDeadline`` working days of every step its transitions start, e.g. 5 for a
  collection, origin + destination for a transfer): an approximation documented here, because a
  decided item no longer stores the due date of its steps. ``p90_working_days`` is the nearest-rank
  90th percentile. Both are ``None`` when nothing was decided.

CE figures (:func:`cpe_stats`) for one year:

- a frozen year reads the credit-information file (``IntegrityRecord``): obliged = the records,
  completed = those marked completed, credits by form = the sum of their ``by_form``;
- an open year reads the ledger: obliged = active archives whose obligation started by that year
  (``cpe.ledger.obliged_archives_q``, the same condition the year's close uses), completed =
  those of them for whom ``cpe.ledger.is_complete`` (the one rule, R-CE-3) holds on their ledger
  totals, credits by form = every credit of the year registered to an archive of the region.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber, Substr
from django.utils import timezone

from accounts.models import Region
from accounts.scoping import region_scope
from kjzx.deadlines import deadline_keys
from kjzx.models import StepDeadline
from kjzx.workdays import working_day_set

WINDOW_DAYS = 365  # decided items of the last year count towards on-time rate and p90
DECIDED_CAP = 5000  # at most this many latest decided items per region and kind
NOT_DECISIONS = ("withdrawn",)  # an applicant's withdrawal closes an item but is no bureau decision


# --- the rows' regions -------------------------------------------------------------------------

def stat_regions(scope: Region) -> list[Region]:
    """The regions of the rows: the caller's own code, then each region directly below it."""
    if scope.level == Region.Level.COUNTY:
        return [scope]
    children = Region.objects.filter(Q(pk=scope.pk) | Q(parent=scope)).select_related("parent").order_by("code")
    return sorted(children, key=lambda region: (region.pk != scope.pk, region.pk))


def _region_key(scope: Region, region_field: str):
    """The code directly below ``scope`` on ``region_field``'s path; "" for ``scope`` itself."""
    return Substr(f"{region_field}__path", len(scope.path) + 1, 6)


def _code(scope: Region, key: str) -> str:
    return key or scope.pk


def _inside(scope: Region, region_field: str) -> Q:
    return Q(**{f"{region_field}__path__startswith": scope.path})


def require_scope(user) -> Region:
    scope = region_scope(user)
    if scope is None:
        raise PermissionError("not a reviewer")
    return scope


# --- review figures ----------------------------------------------------------------------------

@dataclasses.dataclass
class ReviewRow:
    region: Region
    kind: str
    kind_label: str
    open: int = 0
    due_today: int = 0
    overdue: int = 0
    on_time_rate: float | None = None
    p90_working_days: int | None = None

    def as_dict(self) -> dict:
        return {"region": self.region.pk, "kind": self.kind, "open": self.open, "due_today": self.due_today,
                "overdue": self.overdue, "on_time_rate": self.on_time_rate,
                "p90_working_days": self.p90_working_days}


def _allowed_working_days(models: dict) -> dict[str, int]:
    """kind → the working days of all the steps its transitions start, from one query."""
    keys = {kind: deadline_keys(model) for kind, model in models.items()}
    days = dict(StepDeadline.objects.filter(key__in={k for ks in keys.values() for k in ks})
                .values_list("key", "working_days"))
    return {kind: sum(days.get(key, 0) for key in ks) for kind, ks in keys.items()}


def _working_day_counter(first: dt.date, last: dt.date):
    """A function (a, b) → working days after ``a`` up to and including ``b`` (R-DL-1), one calendar query."""
    span = (last - first).days
    working = working_day_set(first + dt.timedelta(days=1), last)
    cumulative, running = {first: 0}, 0
    for offset in range(1, span + 1):
        day = first + dt.timedelta(days=offset)
        running += day in working
        cumulative[day] = running
    return lambda a, b: cumulative[b] - cumulative[a]


def p90(values: list[int]) -> int | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def review_stats(user, today: dt.date | None = None) -> list[ReviewRow]:
    """The review figures of the caller's scope: one row per region and kind (see the module doc)."""
    from records.selectors import QUEUE_MODELS

    scope = require_scope(user)
    today = today or timezone.localdate()
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    regions = stat_regions(scope)
    allowed = _allowed_working_days(QUEUE_MODELS)
    rows = {(region.pk, kind): ReviewRow(region, kind, str(model.KIND_LABEL))
            for region in regions for kind, model in QUEUE_MODELS.items()}
    decided: dict[tuple[str, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for kind, model in QUEUE_MODELS.items():
        key = _region_key(scope, "jurisdiction")
        counts = (model.objects.filter(model.review_q(), _inside(scope, "jurisdiction")).annotate(k=key)
                  .values("k").annotate(open=Count("pk"), due_today=Count("pk", filter=Q(due_date=today)),
                                        overdue=Count("pk", filter=Q(due_date__lt=today))).order_by())
        for found in counts:
            row = rows.get((_code(scope, found["k"]), kind))
            if row is not None:
                row.open, row.due_today, row.overdue = found["open"], found["due_today"], found["overdue"]
        latest = (model.objects.filter(_inside(scope, "jurisdiction"), decided_at__gte=since,
                                       submitted_at__isnull=False).exclude(status__in=NOT_DECISIONS)
                  .annotate(k=key, rank=Window(RowNumber(), partition_by=[key], order_by=F("decided_at").desc()))
                  .filter(rank__lte=DECIDED_CAP).values_list("k", "submitted_at", "decided_at"))
        for k, submitted_at, decided_at in latest:
            decided[(_code(scope, k), kind)].append((timezone.localdate(submitted_at),
                                                     timezone.localdate(decided_at)))
    spans = [pair for pairs in decided.values() for pair in pairs]
    if spans:
        between = _working_day_counter(min(a for a, _b in spans), max(b for _a, b in spans))
        for (code, kind), pairs in decided.items():
            row = rows.get((code, kind))
            if row is None:
                continue
            days = [between(a, b) for a, b in pairs]
            row.on_time_rate = round(sum(d <= allowed[kind] for d in days) / len(days), 4)
            row.p90_working_days = p90(days)
    return list(rows.values())


# --- CE figures --------------------------------------------------------------------------------

@dataclasses.dataclass
class CpeRow:
    region: Region
    obliged: int = 0
    completed: int = 0
    credits_by_form: dict[str, Decimal] = dataclasses.field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return round(self.completed / self.obliged, 4) if self.obliged else None

    def as_dict(self) -> dict:
        return {"region": self.region.pk, "obliged": self.obliged, "completed": self.completed, "rate": self.rate,
                "credits_by_form": {form: str(value) for form, value in self.credits_by_form.items()}}


def _ordered_forms(sums: dict[str, Decimal]) -> dict[str, Decimal]:
    from cpe.models import CreditForm

    return {form: sums[form] for form in CreditForm.values if sums.get(form)}


def cpe_stats(user, policy) -> list[CpeRow]:
    """The CE figures of the caller's scope for one year (a ``CEYear``): one row per region."""
    from cpe.ledger import is_complete
    from cpe.models import CreditEntry, IntegrityRecord, SubjectKind
    from records.models import Archive

    scope = require_scope(user)
    rows = {region.pk: CpeRow(region) for region in stat_regions(scope)}
    forms: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    if policy.is_frozen:
        records = (IntegrityRecord.objects.filter(_inside(scope, "archive__jurisdiction"), year=policy)
                   .annotate(k=_region_key(scope, "archive__jurisdiction")).values_list("k", "completed", "by_form"))
        for k, completed, by_form in records.iterator(chunk_size=5000):
            row = rows.get(_code(scope, k))
            if row is None:
                continue
            row.obliged += 1
            row.completed += bool(completed)
            for form, value in (by_form or {}).items():
                forms[row.region.pk][form] += Decimal(value)
    else:
        from cpe.ledger import obliged_archives_q

        obliged = Archive.objects.filter(obliged_archives_q(policy.year), _inside(scope, "jurisdiction"))
        counts = (obliged.annotate(k=_region_key(scope, "jurisdiction")).values("k")
                  .annotate(n=Count("pk")).order_by())
        for found in counts:
            row = rows.get(_code(scope, found["k"]))
            if row is not None:
                row.obliged = found["n"]
        people = (CreditEntry.objects.filter(year=policy, archive__in=obliged.values("pk"))
                  .annotate(k=_region_key(scope, "archive__jurisdiction")).values("archive_id", "k")
                  .annotate(total=Sum("credits"),
                            professional=Sum("credits", filter=Q(subject_kind=SubjectKind.PROFESSIONAL)))
                  .order_by())
        for person in people.iterator(chunk_size=5000):
            row = rows.get(_code(scope, person["k"]))
            if row is not None and is_complete(policy, person["total"] or Decimal(0),
                                               person["professional"] or Decimal(0)):
                row.completed += 1
        by_form = (CreditEntry.objects.filter(_inside(scope, "archive__jurisdiction"), year=policy)
                   .annotate(k=_region_key(scope, "archive__jurisdiction")).values("k", "form")
                   .annotate(credits=Sum("credits")).order_by())
        for found in by_form:
            forms[_code(scope, found["k"])][found["form"]] += found["credits"] or Decimal(0)
    for code, sums in forms.items():
        if code in rows:
            rows[code].credits_by_form = _ordered_forms(sums)
    return list(rows.values())


def cpe_years():
    """The CE years a dashboard may show, newest first."""
    from cpe.models import CEYear

    return CEYear.objects.order_by("-year")


def default_cpe_year(today: dt.date | None = None) -> int | None:
    """This year if its policy exists, else the newest year."""
    today = today or timezone.localdate()
    years = list(cpe_years().values_list("year", flat=True))
    if today.year in years:
        return today.year
    return years[0] if years else None

