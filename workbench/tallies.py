# ruff: noqa: S608  (SQL is built from the model's table name only; values are parameters)
"""The decision tallies (办结用时统计) behind the dashboards' on-time rate and p90; R-DL-1.

A decided application counts once, in the row of its region (``jurisdiction``), kind, month of the
decision (Beijing time) and handling time: the working days from its last submission to the decision
(``kjzx.workdays``, R-DL-1). An applicant's withdrawal is no bureau decision and is not counted.

:func:`decision_tally_update` runs in every ``workflow_transition`` (``kjzx.workflow.TRANSITION_HOOKS``,
registered by :class:`workbench.apps.WorkbenchConfig`): it compares the application's tally key before
and after the transition and moves one count — so the tallies are always exactly those of the
applications' current rows, which :func:`decision_tallies_expected` recomputes for ``stats_verify``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import connection
from django.utils import timezone

from kjzx.workdays import working_day_set, working_days_between
from workbench.models import DecisionTally

NOT_DECISIONS = ("withdrawn",)  # an applicant's withdrawal closes an item but is no bureau decision
TALLY = DecisionTally._meta.db_table

Key = tuple[str, str, int, int]  # region, kind, month (yyyymm), working days


def month_of(day: dt.date) -> int:
    return day.year * 100 + day.month


def _key(obj, days) -> Key | None:
    if obj.decided_at is None or obj.submitted_at is None or not obj.jurisdiction_id or obj.status in NOT_DECISIONS:
        return None
    submitted, decided = timezone.localdate(obj.submitted_at), timezone.localdate(obj.decided_at)
    return obj.jurisdiction_id, obj.KIND, month_of(decided), max(days(submitted, decided), 0)


def decision_key(obj) -> Key | None:
    """Where ``obj`` counts in the tallies now, or None (not decided, or withdrawn)."""
    return _key(obj, working_days_between)


def _bump(key: Key, step: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TALLY} (region_id, kind, month, days, count) VALUES (%s, %s, %s, %s, %s) "
                       f"ON CONFLICT (region_id, kind, month, days) "
                       f"DO UPDATE SET count = {TALLY}.count + excluded.count", (*key, step))


def decision_tally_update(obj, before) -> None:
    """``kjzx.workflow.TRANSITION_HOOKS``: move ``obj``'s count if the transition decided it (or re-dated it)."""
    old, new = decision_key(before), decision_key(obj)
    if old == new:
        return
    if old is not None:
        _bump(old, -1)
    if new is not None:
        _bump(new, 1)


# --- recomputation (stats_verify) ---------------------------------------------------------------

def _working_day_counter(first: dt.date, last: dt.date):
    """(a, b) → working days after ``a`` up to and including ``b``, for any pair in [first, last]: one query."""
    working = working_day_set(first + dt.timedelta(days=1), last)
    cumulative, running = {first: 0}, 0
    for offset in range(1, (last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        running += day in working
        cumulative[day] = running
    return lambda a, b: cumulative[b] - cumulative[a]


def decision_tallies_expected(models) -> Counter:
    """The tallies recomputed from the applications of ``models`` (every decided, not withdrawn item)."""
    rows = []
    for model in models:
        decided = (model.objects.filter(decided_at__isnull=False, submitted_at__isnull=False,
                                        jurisdiction__isnull=False).exclude(status__in=NOT_DECISIONS)
                   .values_list("jurisdiction_id", "submitted_at", "decided_at"))
        rows.extend((model.KIND, region, timezone.localdate(submitted), timezone.localdate(decided))
                    for region, submitted, decided in decided.iterator(chunk_size=20000))
    counts: Counter = Counter()
    if not rows:
        return counts
    between = _working_day_counter(min(row[2] for row in rows), max(row[3] for row in rows))
    for kind, region, submitted, decided in rows:
        counts[(region, kind, month_of(decided), max(between(submitted, decided), 0))] += 1
    return counts


def decision_tallies_actual() -> Counter:
    return Counter({(region, kind, month, days): count for region, kind, month, days, count in
                    DecisionTally.objects.exclude(count=0).values_list("region_id", "kind", "month", "days", "count")})


def decision_tallies_rebuild(expected: Counter) -> None:
    """Replace every tally by ``expected`` (in the caller's transaction)."""
    DecisionTally.objects.all().delete()
    DecisionTally.objects.bulk_create(
        (DecisionTally(region_id=region, kind=kind, month=month, days=days, count=count)
         for (region, kind, month, days), count in expected.items()), batch_size=5000)
