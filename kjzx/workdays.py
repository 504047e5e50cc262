"""Working days (工作日), R-DL-1: the one place that decides whether a day is worked.

For one date, the first of these that has an answer wins:

1. a CalendarDay row entered by provincial staff (fills a new year, or corrects any year);
2. ``chinese_calendar`` for the years it knows (it handles the 调休 working weekends);
3. Monday to Friday.

A year that the library does not know and that staff have not confirmed (CalendarYear) is a
gap: due dates in it are provisional, provincial staff see a banner (calendar_gaps), and the
daily beat task ``check_calendar_coverage`` writes a "calendar.gap" audit event (R-DL-3).
Nothing here raises on an unknown year: it falls back to Monday–Friday. Writes to the calendar, and the
open due dates they move, are :mod:`kjzx.calendar`'s.

A due date is the n-th working day after the day the step began; that day never counts,
whether or not it was a working day (R-DL-1).
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache

import chinese_calendar
from django.db import connection, transaction
from django.utils import timezone

from kjzx.audit import record_event, register_event_labels
from kjzx.models import AuditEvent, CalendarDay, CalendarYear

register_event_labels({"calendar.gap": "工作日历缺失"})

ONE_DAY = dt.timedelta(days=1)
# Look this far ahead for gaps: the longest step (10 working days, plus a Spring Festival) ends
# well inside it, and it leaves staff weeks after the State Council publishes in Nov/Dec.
GAP_HORIZON = dt.timedelta(days=60)
# pg_advisory_xact_lock key: serialises concurrent gap reports so a day gets one event.
GAP_REPORT_LOCK = 0x6B6A7A78
# pg_advisory_xact_lock key of the calendar: a change holds it exclusively (kjzx.calendar), a step beginning
# shares it (calendar_read_lock), so no due date is counted on a calendar that is being changed.
CALENDAR_LOCK = 0x6B6A7A79


def _as_date(value: dt.date) -> dt.date:
    """Accept a datetime too: an aware one is read in the portal's time zone (Asia/Shanghai)."""
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


@cache
def library_knows(year: int) -> bool:
    """Whether ``chinese_calendar`` has the State Council arrangement for ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8192)
def _default_is_working(day: dt.date) -> bool:
    """The answer without a CalendarDay row: the library where it knows the year, else Mon–Fri. Kept per
    process: it reads no database (staff corrections are the CalendarDay rows, looked at first), and the library
    asks about 35 µs a day — a queue page counting days left over months of overdue rows paid ~1 ms for it."""
    if library_knows(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


class _Calendar:
    """Answers for consecutive days, loading CalendarDay rows a window at a time (one query each)."""

    def __init__(self, first: dt.date, span_days: int):
        self._span = dt.timedelta(days=max(span_days, 31))
        self._loaded_until = first - ONE_DAY
        self._overrides: dict[dt.date, bool] = {}

    def is_working(self, day: dt.date) -> bool:
        while day > self._loaded_until:
            self._load(self._loaded_until + ONE_DAY)
        override = self._overrides.get(day)
        return _default_is_working(day) if override is None else override

    def _load(self, first: dt.date) -> None:
        last = first + self._span
        rows = CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "is_working_day")
        self._overrides.update(rows)
        self._loaded_until = last


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (工作日), R-DL-1: CalendarDay, then the library, then Mon–Fri."""
    day = _as_date(day)
    override = CalendarDay.objects.filter(date=day).values_list("is_working_day", flat=True).first()
    return _default_is_working(day) if override is None else override


def working_days_after(start: dt.date, n: int) -> dt.date:
    """The due date of an n-working-day step begun on ``start`` (R-DL-1).

    The n-th working day after ``start``; ``start`` itself never counts. ``n == 0`` gives
    ``start``. One query for any realistic ``n`` (rows are loaded for start + 3n + 30 days).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = _as_date(start)
    calendar = _Calendar(day + ONE_DAY, n * 3 + 30)
    while n:
        day += ONE_DAY
        if calendar.is_working(day):
            n -= 1
    return day


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days after ``a`` up to and including ``b`` (R-DL-1); ``-working_days_between(b, a)`` if b < a.

    So ``working_days_between(a, working_days_after(a, n)) == n``, and for "days left"
    ``working_days_between(today, due)`` is 0 on the due date and negative once overdue.
    """
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b, a)
    span = (b - a).days
    calendar = _Calendar(a + ONE_DAY, span)
    return sum(calendar.is_working(a + dt.timedelta(days=i)) for i in range(1, span + 1))


def calendar_read_lock() -> None:
    """Wait for a calendar change in progress to commit, and hold it off until this transaction ends (R-DL-1).

    Taken by a step that begins (:meth:`kjzx.workflow.WorkflowModel.step_begin`): a due date counted while
    staff correct the calendar would be counted on the old one and missed by the recompute.
    """
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [CALENDAR_LOCK])


def unknown_years(years: list[int]) -> list[int]:
    """Those of ``years`` neither the library knows nor staff confirmed; at most one query."""
    candidates = [year for year in years if not library_knows(year)]
    if not candidates:
        return []
    confirmed = set(
        CalendarYear.objects.filter(year__in=candidates, confirmed=True).values_list("year", flat=True)
    )
    return [year for year in candidates if year not in confirmed]


def year_is_known(year: int) -> bool:
    """Whether ``year``'s holiday arrangement is known: in the library, or confirmed by staff (R-DL-1)."""
    return not unknown_years([year])


def is_provisional(day: dt.date) -> bool:
    """Whether a due date on ``day`` is provisional, counted Mon–Fri in a year not yet known (R-DL-1)."""
    return not year_is_known(_as_date(day).year)


def calendar_gaps(until: dt.date | None = None) -> list[int]:
    """The years from this year through ``until``'s (default: today + 60 days) that are not known (R-DL-1)."""
    today = timezone.localdate()
    until = _as_date(until) if until else today + GAP_HORIZON
    return unknown_years(list(range(today.year, until.year + 1)))


def _gap_reported_today() -> bool:
    start_of_day = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    return AuditEvent.objects.filter(event_type="calendar.gap", at__gte=start_of_day).exists()


def _lock_gap_report() -> None:
    """Two runs at once (a retry, a second beat) must not both see "nothing yet today"."""
    if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions already serialise writers
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GAP_REPORT_LOCK])


@transaction.atomic
def calendar_gap_report() -> list[int]:
    """Record missing calendar years (工作日历缺失), R-DL-1, R-DL-3.

    Writes one "calendar.gap" audit event a day at most while there are gaps; running it again
    the same day writes nothing. Returns the gaps.
    """
    gaps = calendar_gaps()
    if gaps:
        _lock_gap_report()
        if not _gap_reported_today():
            record_event(None, "calendar.gap", extra={"years": gaps})
    return gaps


def working_days_left(today: dt.date, due_dates) -> dict[dt.date, int]:
    """``working_days_between(today, due)`` for many due dates at once, with one query (a queue page)."""
    today = _as_date(today)
    dues = sorted(set(due_dates))
    if not dues:
        return {}
    first, last = min(dues[0], today), max(dues[-1], today)
    calendar = _Calendar(first + ONE_DAY, (last - first).days)
    working = {first + dt.timedelta(days=i) for i in range(1, (last - first).days + 1)
               if calendar.is_working(first + dt.timedelta(days=i))}
    result = {}
    for due in dues:
        if due >= today:
            result[due] = sum(1 for d in working if today < d <= due)
        else:
            result[due] = -sum(1 for d in working if due < d <= today)
    return result


def working_day_set(first: dt.date, last: dt.date) -> set[dt.date]:
    """Every working day from ``first`` to ``last`` inclusive, with one query (R-DL-1): for counting
    working days between many pairs of dates at once (the dashboards)."""
    first, last = _as_date(first), _as_date(last)
    if last < first:
        return set()
    calendar = _Calendar(first, (last - first).days)
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)
            if calendar.is_working(first + dt.timedelta(days=i))}
